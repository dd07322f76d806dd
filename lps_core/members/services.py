"""Members: enrolment and approval (or rejection), profile changes, points adjustments by staff,
and what the desk keeps about a member (family, preferences, contact log)."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert, select, update

from lps_core.cards.models import Card, CardType
from lps_core.cards.services import (
    find_card,
    get_card_type,
    issue_card,
    normalize_card_no,
)
from lps_core.earning.bonuses import grant_enrolment_bonus
from lps_core.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from lps_core.ledger.models import POINTS, Account
from lps_core.ledger.services import (
    Posting,
    credit,
    debit,
    fingerprint_of,
    get_or_create_account,
)
from lps_core.members.models import (
    PREFERENCE_KEYS,
    ContactLogEntry,
    FamilyMember,
    Member,
    MemberPreference,
    Tier,
)
from lps_core.members.schemas import (
    PROFILE_FIELDS,
    EnrolmentIn,
    FamilyMemberForm,
    PreferencesForm,
)
from lps_core.messages.outbox import enqueue
from lps_core.plugins import plugins_of
from lps_core.operators.access import require_member_write
from lps_core.pii import PHONE_TEXT, phone_e164, phone_region_of
from lps_core.timeutil import utcnow
from lps_core.validation import validate


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


def phone_problem(region) -> str:
    return (f"must be a valid phone number, such as +86 138 0000 0000; a number without its country code "
            f"is read as a number of {region}")


def clean_enrolment(data, *, phone_region=None) -> Enrolment:
    """An enrolment, checked by its schema (EnrolmentIn, the same for the API and the desk; `data`
    is the model or its fields), as the domain keeps it.

    Given `phone_region` (lps.phone.default_region, see lps_core.pii.phone_region_of), the phone
    number is checked and written in E.164 here; without it, enrol_member and update_profile do so.
    The referrer's card number is normalised (its check digit checked)."""
    try:
        body = data if isinstance(data, EnrolmentIn) else validate(EnrolmentIn, data,
                                                                   message="the enrolment has invalid fields")
    except ValidationFailed as exc:  # every bad field at once: the domain's too, where the shape is right
        domain = _domain_problems(data.get("phone"), data.get("referrer_card_no"), phone_region)[0]
        raise ValidationFailed(exc.message, {**domain, **exc.fields}) from None
    clean = body.model_dump(exclude={"force_duplicate_phone"})
    errors, normalised = _domain_problems(body.phone, body.referrer_card_no, phone_region)
    if errors:
        raise ValidationFailed("the enrolment has invalid fields", errors)
    return Enrolment(**{**clean, **normalised})


def _domain_problems(phone, referrer_card_no, phone_region) -> tuple[dict, dict]:
    """(errors, normalised values) of the phone number and the referrer's card number."""
    errors, normalised = {}, {}
    if isinstance(phone, str):
        if phone_region is not None and phone_e164(phone, phone_region) is None:
            errors["phone"] = phone_problem(phone_region)
        elif phone_region is not None:
            normalised["phone"] = phone_e164(phone, phone_region)
        elif not PHONE_TEXT.match(phone):
            errors["phone"] = "must be a phone number of digits, optionally starting with +"
    if isinstance(referrer_card_no, str):
        try:
            normalised["referrer_card_no"] = normalize_card_no(referrer_card_no, "referrer_card_no")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    return errors, normalised


# Members whose phone number a new enrolment must not silently share: a rejected enrolment or a
# closed membership no longer holds its number.
HOLDS_PHONE = ("pending", "active", "dormant", "suspended")
DUPLICATES_NAMED = 3


class DuplicatePhone(Conflict):
    """An enrolment gives a phone number that a member already holds. It names the member (id and
    name, never the number); the caller may enrol anyway with force_duplicate_phone."""

    code = "duplicate_phone"
    title = "The phone number belongs to a member already"

    def __init__(self, existing):
        self.existing = [{"id": member_id, "name": name} for member_id, name in existing]
        named = ", ".join(f"member {member['id']} ({member['name']})" for member in self.existing)
        super().__init__(f"this phone number already belongs to {named}: enrol anyway only if this is another "
                         f"person sharing the number (force_duplicate_phone)",
                         {"phone": f"already belongs to {named}"})

    def as_json(self):
        return {**super().as_json(), "existing_members": self.existing}


def e164_phone(db, phone) -> str | None:
    """The phone number in E.164, read in the installation's default region; ValidationFailed naming
    `phone` when it is not a valid number."""
    if phone is None:
        return None
    region = phone_region_of(db)
    e164 = phone_e164(phone, region)
    if e164 is None:
        raise ValidationFailed("phone is not a valid phone number", {"phone": phone_problem(region)})
    return e164


def members_with_phone(db, phone, *, excluding=None) -> list[tuple[int, str]]:
    """(id, name) of the members holding `phone` (any written form), newest first, at most a few."""
    query = select(Member.id, Member.name).where(Member.phone_index == phone, Member.status.in_(HOLDS_PHONE))
    if excluding is not None:
        query = query.where(Member.id != excluding)
    return [tuple(row) for row in db.execute(query.order_by(Member.id.desc()).limit(DUPLICATES_NAMED)).all()]


def enrol_member(db, enrolment: Enrolment, outlet_id=None, *, force_duplicate_phone=False) -> int:
    """Record an enrolment from the desk or the website; it waits for approval. A referrer is
    named by their card, which must be active.

    The phone number is stored in E.164. One that a member already holds is refused with
    DuplicatePhone (409, naming that member) unless `force_duplicate_phone` is true: staff have
    checked that this is another person sharing the number."""
    phone = e164_phone(db, enrolment.phone)
    referred_by = None
    if enrolment.referrer_card_no:
        referrer = find_card(db, enrolment.referrer_card_no)
        if referrer is None or referrer.status != "active" or referrer.member_status != "active":
            raise Unprocessable("the referrer's card is not an active member's card",
                                {"referrer_card_no": "no active member has this card"})
        referred_by = referrer.member_id
    if phone is not None and not force_duplicate_phone:
        existing = members_with_phone(db, phone)
        if existing:
            raise DuplicatePhone(existing)
    return db.scalar(insert(Member).values(
        name=enrolment.name, channel=enrolment.channel, email=enrolment.email,
        # Each personal value goes in twice: encrypted, and as its blind index for look-ups.
        phone=phone, phone_index=phone, id_number=enrolment.id_number,
        id_number_index=enrolment.id_number, address=enrolment.address,
        birthday=enrolment.birthday, gender=enrolment.gender, status="pending", enrolled_outlet_id=outlet_id,
        referred_by_id=referred_by, created_at=utcnow(),
    ).returning(Member.id))


def approve_member(db, member_id, *, issuance="pool_then_generate", card_type_code=None, programme=None,
                   plugins=None) -> str:
    """Activate a pending member at the lowest tier, open their points account, issue a card and,
    given the programme and the plugin registry (its promotion kinds), credit its enrolment bonuses;
    then raise lps_on_member_approved (with the plugins given, or those of the session's application).

    The card is of a member card type: an anonymous (bearer) card type is refused, whoever asks
    (the screens offer none, and the API is refused the same way). Without a code, the first active
    member card type is used."""
    member = db.execute(
        select(Member.id, Member.status).where(Member.id == member_id).with_for_update()
    ).one_or_none()
    if member is None:
        raise NotFound(f"member {member_id} does not exist", {"id": "no such member"})
    if member.status != "pending":
        raise Conflict(f"member {member_id} is {member.status}, not pending approval",
                       {"status": f"is {member.status}"})
    card_type = member_card_type(db, card_type_code)
    entry_tier = db.scalar(select(Tier.id).where(Tier.retired_at.is_(None)).order_by(Tier.rank).limit(1))
    now = utcnow()
    db.execute(update(Member).where(Member.id == member_id)
               .values(status="active", approved_at=now, tier_id=entry_tier, tier_since=now))
    db.execute(insert(Account).values(kind=POINTS, member_id=member_id, balance=0))
    card_no = issue_card(db, member_id, method=issuance, card_type_code=card_type.code)
    if programme is not None:
        grant_enrolment_bonus(db, plugins, programme, member_id, now)
    enqueue(db, "enrolment_approved", member_id=member_id, key=str(member_id), context={"card_no": card_no})
    plugins = plugins or plugins_of(db)
    if plugins is not None:
        plugins.hook.lps_on_member_approved(dbsession=db, member_id=member_id, card_no=card_no)
    return card_no


def member_card_type(db, code=None) -> CardType:
    """The card type a named member may hold: `code` if it is not anonymous, or the first active
    one that is not anonymous."""
    if code is not None:
        card_type = get_card_type(db, code)
        if card_type.anonymous:
            raise Unprocessable(f"card type {code!r} is an anonymous (bearer) card type: a named member cannot "
                                f"hold it", {"card_type": "is an anonymous (bearer) card type: choose a member card type"})
        return card_type
    card_type = db.scalars(select(CardType).where(CardType.anonymous.is_(False), CardType.active.is_(True))
                           .order_by(CardType.id).limit(1)).first()
    if card_type is None:
        raise Conflict("no member card type is defined yet", {"card_type": "define a card type that is not anonymous"})
    return card_type


def reject_member(db, member_id, reason, *, now=None) -> None:
    """Turn down a pending enrolment: the member becomes 'rejected' with the reason (checked by
    lps_core.members.schemas.RejectionForm) kept."""
    status = db.scalar(select(Member.status).where(Member.id == member_id).with_for_update())
    if status is None:
        raise NotFound(f"member {member_id} does not exist", {"id": "no such member"})
    if status != "pending":
        raise Conflict(f"member {member_id} is {status}, not pending approval", {"status": f"is {status}"})
    db.execute(update(Member).where(Member.id == member_id)
               .values(status="rejected", status_reason=reason, approved_at=now or utcnow()))
    enqueue(db, "enrolment_rejected", member_id=member_id, key=str(member_id), context={"reason": reason})


# --- Profile --------------------------------------------------------------------------------------

PERSONAL_FIELDS = ("phone", "id_number", "address")


def profile_of(db, member_id) -> dict:
    member = db.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} does not exist", {"id": "no such member"})
    return {field: getattr(member, field) for field in PROFILE_FIELDS}


def update_profile(db, member_id, profile: Enrolment) -> tuple[dict, dict]:
    """Write the profile; returns (before, after) of the fields that changed, for the audit log,
    with personal data masked so the log does not hold it in clear."""
    before = profile_of(db, member_id)
    after = {field: getattr(profile, field) for field in PROFILE_FIELDS}
    after["phone"] = e164_phone(db, profile.phone)
    db.execute(update(Member).where(Member.id == member_id).values(
        **after, phone_index=after["phone"], id_number_index=profile.id_number))
    changed = [field for field in PROFILE_FIELDS if before[field] != after[field]]
    return ({field: _masked(field, before[field]) for field in changed},
            {field: _masked(field, after[field]) for field in changed})


def _masked(field, value):
    if field not in PERSONAL_FIELDS or value is None:
        return value
    return "*" * max(0, len(value) - 4) + value[-4:] if field != "address" else "(address)"


def require_card_holder_write(db, scope, raw_card_no) -> None:
    """For the card API (status, replacement): the member-write rule of
    lps_core.operators.access.may_write_member applied to the member holding the card, so that an
    outlet's API key changes the cards of its own members and of members enrolled at no outlet,
    as the member screens allow its staff. A card without a member, or an unknown number, is left
    to the service that follows."""
    try:
        card_no = normalize_card_no(raw_card_no)
    except ValidationFailed:
        return
    holder = db.execute(select(Member.id, Member.enrolled_outlet_id).join(Card, Card.member_id == Member.id)
                        .where(Card.card_no == card_no)).one_or_none()
    if holder is not None:
        require_member_write(scope, holder.id, holder.enrolled_outlet_id)


# --- Points adjustments --------------------------------------------------------------------------

ADJUSTMENT = "adjustment"


def adjust_points(db, programme, member_id, points, reason, *, request_key, outlet_id=None, now=None) -> Posting:
    """Add (points > 0) or take away (points < 0) points by hand, with a mandatory reason (both
    checked by lps_core.members.schemas.AdjustmentForm).

    `request_key` names this adjustment (the form's one-time key), so a form sent twice posts once."""
    status = db.scalar(select(Member.status).where(Member.id == member_id))
    if status is None:
        raise NotFound(f"member {member_id} does not exist", {"id": "no such member"})
    if status not in ("active", "dormant", "suspended"):
        raise Conflict(f"member {member_id} is {status}", {"points": f"member is {status}"})
    now = now or utcnow()
    account_id = get_or_create_account(db, POINTS, member_id=member_id)
    key = f"adjust:{member_id}:{request_key}"
    fingerprint = fingerprint_of({"member_id": member_id, "points": points, "reason": reason, "outlet_id": outlet_id})
    if points > 0:
        return credit(db, account_id, points, kind=ADJUSTMENT, business_key=key, fingerprint=fingerprint,
                      occurred_at=now, expires_at=programme.expiry.lot_expires_at(now), outlet_id=outlet_id,
                      note=reason)
    return debit(db, account_id, -points, kind=ADJUSTMENT, business_key=key, fingerprint=fingerprint,
                 occurred_at=now, outlet_id=outlet_id, note=reason, now=now)


# --- Family, preferences, contact log ------------------------------------------------------------

def add_family_member(db, member_id, family: FamilyMemberForm) -> dict:
    """Record a family member; returns what was written."""
    clean = family.model_dump()
    clean["id"] = db.scalar(insert(FamilyMember).values(member_id=member_id, **clean, created_at=utcnow())
                            .returning(FamilyMember.id))
    return clean


def remove_family_member(db, member_id, family_id) -> dict:
    row = db.execute(select(FamilyMember.name, FamilyMember.relation, FamilyMember.birthday)
                     .where(FamilyMember.id == family_id, FamilyMember.member_id == member_id)).one_or_none()
    if row is None:
        raise NotFound(f"no family member {family_id} of member {member_id}", {"family_id": "no such family member"})
    db.execute(delete(FamilyMember).where(FamilyMember.id == family_id))
    return {"id": family_id, **row._asdict()}


def preferences_of(db, member_id) -> dict:
    return dict(db.execute(select(MemberPreference.key, MemberPreference.value)
                           .where(MemberPreference.member_id == member_id)).all())


def set_preferences(db, member_id, values: PreferencesForm) -> tuple[dict, dict]:
    """Set the free-text preferences (room, pillow, dietary); an absent value removes one. Returns
    (before, after) of the keys that changed."""
    before = preferences_of(db, member_id)
    after = {key: getattr(values, key) or "" for key in PREFERENCE_KEYS}
    now = utcnow()
    for key, value in after.items():
        if before.get(key, "") == value:
            continue
        db.execute(delete(MemberPreference).where(MemberPreference.member_id == member_id, MemberPreference.key == key))
        if value:
            db.execute(insert(MemberPreference).values(member_id=member_id, key=key, value=value, updated_at=now))
    changed = [key for key in PREFERENCE_KEYS if before.get(key, "") != after[key]]
    return {key: before.get(key) for key in changed}, {key: after[key] or None for key in changed}


def add_contact(db, member_id, channel, note, *, operator_id, operator_name, contacted_at=None) -> int:
    """Add an entry to the member's contact log (channel and note checked by
    lps_core.members.schemas.ContactForm); returns its id."""
    return db.scalar(insert(ContactLogEntry).values(
        member_id=member_id, channel=channel, note=note, operator_id=operator_id, operator_name=operator_name,
        contacted_at=contacted_at or utcnow()).returning(ContactLogEntry.id))
