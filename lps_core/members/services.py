"""Enrolment and approval of members."""
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select, update

from lps_core.cards.services import find_card, issue_card, normalize_card_no
from lps_core.earning.bonuses import grant_enrolment_bonus
from lps_core.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import ENROLMENT_CHANNELS, GENDERS, Member, Tier
from lps_core.timeutil import utcnow

PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,30}$")
ID_NUMBER = re.compile(r"^[0-9A-Za-z\-]{5,32}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Enrolment:
    name: str
    channel: str
    phone: str | None = None
    email: str | None = None
    birthday: date | None = None
    gender: str = "unspecified"
    referrer_card_no: str | None = None
    id_number: str | None = None
    address: str | None = None


def clean_enrolment(data) -> Enrolment:
    """Validate an enrolment form or API body; every bad field is named at once."""
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", {"body": "must be a JSON object"})
    errors, clean = {}, {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "is required"
    elif len(name.strip()) > 200:
        errors["name"] = "must be at most 200 characters"
    else:
        clean["name"] = name.strip()
    channel = data.get("channel")
    if channel not in ENROLMENT_CHANNELS:
        errors["channel"] = f"must be one of: {', '.join(ENROLMENT_CHANNELS)}"
    else:
        clean["channel"] = channel
    phone = data.get("phone")
    if phone is not None:
        if not isinstance(phone, str) or not PHONE.match(phone.strip()):
            errors["phone"] = "must be a phone number of digits, optionally starting with +"
        else:
            clean["phone"] = re.sub(r"[ \-]", "", phone.strip())
    email = data.get("email")
    if email is not None:
        if not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email.strip()):
            errors["email"] = "must be an e-mail address"
        else:
            clean["email"] = email.strip().lower()
    if "phone" not in clean and "email" not in clean and "phone" not in errors and "email" not in errors:
        errors["phone"] = "give a phone number or an e-mail address"
    birthday = data.get("birthday")
    if birthday is not None:
        try:
            clean["birthday"] = date.fromisoformat(birthday)
            if not date(1900, 1, 1) <= clean["birthday"] <= date.today():
                errors["birthday"] = "must be between 1900-01-01 and today"
        except (TypeError, ValueError):
            errors["birthday"] = "must be a date as YYYY-MM-DD"
    gender = data.get("gender", "unspecified")
    if gender not in GENDERS:
        errors["gender"] = f"must be one of: {', '.join(GENDERS)}"
    else:
        clean["gender"] = gender
    id_number = data.get("id_number")
    if id_number is not None:
        if not isinstance(id_number, str) or not ID_NUMBER.match(id_number.strip()):
            errors["id_number"] = "must be 5 to 32 letters, digits or dashes"
        else:
            clean["id_number"] = id_number.strip().upper()
    address = data.get("address")
    if address is not None:
        if not isinstance(address, str) or not address.strip() or len(address.strip()) > 500:
            errors["address"] = "must be text of at most 500 characters"
        else:
            clean["address"] = address.strip()
    referrer = data.get("referrer_card_no")
    if referrer is not None:
        try:
            clean["referrer_card_no"] = normalize_card_no(referrer, "referrer_card_no")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    unknown = sorted(set(data) - {"name", "channel", "phone", "email", "birthday", "gender", "referrer_card_no",
                                 "id_number", "address"})
    for field in unknown:
        errors[field] = "is not a known field"
    if errors:
        raise ValidationFailed("the enrolment has invalid fields", errors)
    return Enrolment(**clean)


def enrol_member(db, enrolment: Enrolment, outlet_id=None) -> int:
    """Record an enrolment from the desk or the website; it waits for approval. A referrer is
    named by their card, which must be active."""
    referred_by = None
    if enrolment.referrer_card_no:
        referrer = find_card(db, enrolment.referrer_card_no)
        if referrer is None or referrer.status != "active" or referrer.member_status != "active":
            raise Unprocessable("the referrer's card is not an active member's card",
                                {"referrer_card_no": "no active member has this card"})
        referred_by = referrer.member_id
    return db.scalar(insert(Member).values(
        name=enrolment.name, channel=enrolment.channel, email=enrolment.email,
        # Each personal value goes in twice: encrypted, and as its blind index for look-ups.
        phone=enrolment.phone, phone_index=enrolment.phone, id_number=enrolment.id_number,
        id_number_index=enrolment.id_number, address=enrolment.address,
        birthday=enrolment.birthday, gender=enrolment.gender, status="pending", enrolled_outlet_id=outlet_id,
        referred_by_id=referred_by, created_at=utcnow(),
    ).returning(Member.id))


def approve_member(db, member_id, *, issuance="pool_then_generate", card_type_code=None, programme=None) -> str:
    """Activate a pending member at the lowest tier, open their points account, issue a card and,
    given the programme, credit its enrolment bonuses."""
    member = db.execute(
        select(Member.id, Member.status).where(Member.id == member_id).with_for_update()
    ).one_or_none()
    if member is None:
        raise NotFound(f"member {member_id} does not exist", {"id": "no such member"})
    if member.status != "pending":
        raise Conflict(f"member {member_id} is {member.status}, not pending approval",
                       {"status": f"is {member.status}"})
    entry_tier = db.scalar(select(Tier.id).order_by(Tier.rank).limit(1))
    now = utcnow()
    db.execute(update(Member).where(Member.id == member_id)
               .values(status="active", approved_at=now, tier_id=entry_tier, tier_since=now))
    db.execute(insert(Account).values(kind=POINTS, member_id=member_id, balance=0))
    card_no = issue_card(db, member_id, method=issuance, card_type_code=card_type_code)
    if programme is not None:
        grant_enrolment_bonus(db, programme, member_id, now)
    return card_no
