"""Finding members for the staff screens: any combination of card no., name, phone, ID number,
tier, card type, enrolment outlet, enrolment dates, points balance and birthday month.

Phone and ID number are encrypted at rest, so they match exactly through their blind index; a phone
number is looked up in E.164, read in the default region (lps.phone.default_region) when it has no
country code, so "138-0000-0042" finds the member stored as +8613800000042."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import exists, extract, func, select

from lps_core.cards.models import Card, CardType
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member, Tier
from lps_core.members.schemas import MemberSearchQuery
from lps_core.outlets.models import Outlet
from lps_core.pii import DEFAULT_PHONE_REGION, phone_e164

CRITERIA = tuple(MemberSearchQuery.model_fields)


@dataclass(frozen=True)
class Criteria:
    values: dict  # the cleaned criteria, by name (only those given)
    errors: dict  # criterion -> what is wrong with it


def clean_criteria(query: MemberSearchQuery, timezone_=timezone.utc, phone_region=DEFAULT_PHONE_REGION) -> Criteria:
    """The search's criteria (checked by MemberSearchQuery, see lps_core.members.schemas.search_query)
    as the query takes them: a phone number in E.164, dates as the programme's days."""
    values, errors = {}, {}
    given = query.model_dump(exclude_none=True)
    for name in ("name", "tier", "card_type", "outlet", "status", "balance_min", "balance_max", "birthday_month"):
        if name in given:
            values[name] = given[name]
    if "card_no" in given:
        values["card_no"] = given["card_no"].replace(" ", "").replace("-", "")
    if "phone" in given:
        phone = phone_e164(given["phone"], phone_region)
        if phone is None:
            errors["phone"] = "must be a valid phone number, such as +86 138 0000 0000"
        else:
            values["phone"] = phone
    if "id_number" in given:
        values["id_number"] = given["id_number"].upper()
    for name in ("enrolled_from", "enrolled_to"):
        if name in given:
            # Dates are the programme's days; enrolled_to includes its whole day.
            moment = datetime.combine(given[name] + timedelta(days=1 if name == "enrolled_to" else 0), time(),
                                      timezone_)
            values[name] = moment.astimezone(timezone.utc)
    return Criteria(values, errors)


def member_search(criteria: dict):
    """A select of matching members with their tier, enrolment outlet, points balance and first
    card, one row per member; SORTS names the columns a list may sort by."""
    balance = func.coalesce(Account.balance, 0).label("balance")
    first_card = (select(Card.card_no).where(Card.member_id == Member.id)
                  .order_by((Card.status == "active").desc(), Card.id).limit(1).scalar_subquery())
    query = (
        select(Member.id, Member.name, Member.status, Member.created_at, Member.birthday,
               Tier.name.label("tier_name"), Tier.rank.label("tier_rank"), Outlet.code.label("outlet_code"),
               balance, first_card.label("card_no"))
        .outerjoin(Tier, Tier.id == Member.tier_id)
        .outerjoin(Outlet, Outlet.id == Member.enrolled_outlet_id)
        .outerjoin(Account, (Account.member_id == Member.id) & (Account.kind == POINTS))
    )
    conditions = []
    value = criteria.get
    if value("card_no"):
        conditions.append(exists().where(Card.member_id == Member.id, Card.card_no == value("card_no")))
    if value("name"):
        conditions.append(func.lower(Member.name).contains(value("name").lower(), autoescape=True))
    if value("phone"):
        conditions.append(Member.phone_index == value("phone"))
    if value("id_number"):
        conditions.append(Member.id_number_index == value("id_number"))
    if value("tier"):
        conditions.append(Tier.code == value("tier"))
    if value("card_type"):
        conditions.append(exists().where(Card.member_id == Member.id, Card.card_type_id == CardType.id,
                                         CardType.code == value("card_type")))
    if value("outlet"):
        conditions.append(Outlet.code == value("outlet"))
    if value("status"):
        conditions.append(Member.status == value("status"))
    if value("enrolled_from"):
        conditions.append(Member.created_at >= value("enrolled_from"))
    if value("enrolled_to"):
        conditions.append(Member.created_at < value("enrolled_to"))
    if "balance_min" in criteria:
        conditions.append(func.coalesce(Account.balance, 0) >= value("balance_min"))
    if "balance_max" in criteria:
        conditions.append(func.coalesce(Account.balance, 0) <= value("balance_max"))
    if value("birthday_month"):
        conditions.append(extract("month", Member.birthday) == value("birthday_month"))
    return query.where(*conditions)


SORTS = {
    "name": Member.name,
    "enrolled": Member.created_at,
    "balance": func.coalesce(Account.balance, 0),
    "tier": Tier.rank,
}
