"""A member's region from the normalised phone number (E.164, lps_core.pii.phone_e164): the
area the number's prefix was allocated to, as phonenumbers' geocoding data names it in Chinese
("江苏省常州市", "北京市"), split into province and city. A number from outside China is its
country, with no city. A number with no known area has no region.

The region is kept current by the session itself: after each flush, every member whose phone
number was written (enrolment, an edit, erasure) has their row replaced, in the same
transaction, so no code path that changes a phone number can leave the region behind.
Migration 0036 fills it in for the members that existed before."""
import re

import phonenumbers
from phonenumbers import geocoder
from sqlalchemy import delete, event, inspect, insert
from sqlalchemy.orm import Session

from lps_core.analytics.models import MemberRegion
from lps_core.members.models import Member

# 省, 自治区 and the two special administrative regions end a province; a municipality
# (北京市, 上海市, 天津市, 重庆市) is its own province and city.
PROVINCE = re.compile(r"^(.+?(?:省|自治区|特别行政区))(.*)$")
REGIONS = MemberRegion.__table__


def region_of(phone: str | None) -> tuple[str, str | None] | None:
    """(province, city or None) of an E.164 phone number; None when its area is unknown."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    area = geocoder.description_for_number(number, "zh")
    if not area:
        return None
    if number.country_code != 86:
        return area[:32], None
    matched = PROVINCE.match(area)
    if matched:
        return matched.group(1)[:32], (matched.group(2) or None) and matched.group(2)[:32]
    return area[:32], area[:32]


def region_rows(members) -> list[dict]:
    """The member_regions rows of (member id, phone) pairs that have a region."""
    rows = []
    for member_id, phone in members:
        region = region_of(phone)
        if region is not None:
            rows.append({"member_id": member_id, "province": region[0], "city": region[1]})
    return rows


def _phone_written(member) -> bool:
    state = inspect(member)
    return state.attrs.phone.history.has_changes()


@event.listens_for(Session, "after_flush")
def _keep_regions_current(session, flush_context):
    changed = [member for member in (*session.new, *session.dirty)
               if isinstance(member, Member) and member.id is not None and _phone_written(member)]
    if not changed:
        return
    connection = session.connection()
    connection.execute(delete(REGIONS).where(REGIONS.c.member_id.in_([member.id for member in changed])))
    rows = region_rows((member.id, member.phone) for member in changed)
    if rows:
        connection.execute(insert(REGIONS), rows)
