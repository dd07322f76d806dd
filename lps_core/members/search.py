"""Finding members for the staff screens: any combination of card no., name, phone, ID number,
tier, card type, enrolment outlet, enrolment dates, points balance and birthday month.

Phone and ID number are encrypted at rest, so they match exactly through their blind index; a phone
number is looked up in E.164, read in the default region (lps.phone.default_region) when it has no
country code, so "138-0000-0042" finds the member stored as +8613800000042."""
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import exists, extract, func, select

from lps_core.cards.models import Card, CardType
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member, Tier
from lps_core.outlets.models import Outlet
from lps_core.pii import DEFAULT_PHONE_REGION, phone_e164

CRITERIA = ("card_no", "name", "phone", "id_number", "tier", "card_type", "outlet", "enrolled_from",
            "enrolled_to", "balance_min", "balance_max", "birthday_month", "status")


@dataclass(frozen=True)
class Criteria:
    values: dict  # the cleaned criteria, by name (only those given)
    errors: dict  # criterion -> what is wrong with it


def clean_criteria(params, timezone_=timezone.utc, phone_region=DEFAULT_PHONE_REGION) -> Criteria:
    """Criteria from a query string; each bad one is named, the good ones still apply."""
    values, errors = {}, {}
    raw = {name: (params.get(name) or "").strip() for name in CRITERIA}
    for name in ("name", "tier", "card_type", "outlet", "status"):
        if raw[name]:
            values[name] = raw[name]
    if raw["card_no"]:
        values["card_no"] = raw["card_no"].replace(" ", "").replace("-", "")
    if raw["phone"]:
        phone = phone_e164(raw["phone"], phone_region)
        if phone is None:
            errors["phone"] = "must be a valid phone number, such as +86 138 0000 0000"
        else:
            values["phone"] = phone
    if raw["id_number"]:
        values["id_number"] = raw["id_number"].upper()
    for name in ("enrolled_from", "enrolled_to"):
        if raw[name]:
            try:
                day = date.fromisoformat(raw[name])
            except ValueError:
                errors[name] = "must be a date as YYYY-MM-DD"
                continue
            # Dates are the programme's days; enrolled_to includes its whole day.
            moment = datetime.combine(day + timedelta(days=1 if name == "enrolled_to" else 0), time(), timezone_)
            values[name] = moment.astimezone(timezone.utc)
    for name in ("balance_min", "balance_max"):
        if raw[name]:
            if not re.fullmatch(r"-?\d{1,12}", raw[name]):
                errors[name] = "must be a whole number of points"
            else:
                values[name] = int(raw[name])
    if raw["birthday_month"]:
        if not raw["birthday_month"].isdigit() or not 1 <= int(raw["birthday_month"]) <= 12:
            errors["birthday_month"] = "must be a month from 1 to 12"
        else:
            values["birthday_month"] = int(raw["birthday_month"])
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
