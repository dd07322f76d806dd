"""Who a member is on the portal: finding them by card number or phone, their password, and the
throttling of guesses per account and per client address.

A failed sign-in gives one answer, after the same argon2 work, whether nobody has that card or
phone, the member has no password yet, the account is locked or the password is wrong: the
password is always checked (against a dummy hash when there is nothing to check it against)."""
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, update

from lps_core.cards.models import Card
from lps_core.cards.services import normalize_card_no
from lps_core.errors import ValidationFailed
from lps_core.members.models import Member
from lps_core.members.services import HOLDS_PHONE
from lps_core.operators.services import password_problem
from lps_core.pii import phone_e164, phone_region_of
from lps_core.portal.models import MemberCredential, PortalFailure
from lps_core.portal.sessions import end_sessions
from lps_core.portal.texts import dgettext
from lps_core.timeutil import as_utc, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 20
WINDOW = timedelta(minutes=15)
# Members who may sign in; a pending applicant is told, once the password is right, to wait.
SIGNED_IN_STATUSES = ("active", "dormant", "suspended")
# Cards that no longer name anyone for signing in.
RETIRED_CARDS = ("unissued", "replaced", "cancelled")

REFUSED = dgettext("lps_portal", "The card number, phone number or password is not right.")
THROTTLED = dgettext("lps_portal", "Too many attempts from this address: wait 15 minutes, then try again.")
PENDING = dgettext("lps_portal", "Your application is waiting for the hotel's approval: we will tell you "
                                 "by message as soon as it is decided.")
NOT_ACTIVE = dgettext("lps_portal", "Your membership is not active: please contact the hotel.")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("no such member: a password nobody types")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def secret_matches(secret_hash, secret) -> bool:
    try:
        return _hasher.verify(secret_hash or _DUMMY_HASH, secret or "")
    except (VerificationError, InvalidHashError):
        return False


def dummy_check(secret):
    """The argon2 work of a check, for an answer that must take as long when there is nothing to check."""
    secret_matches(_DUMMY_HASH, secret)


def find_member(db, identifier) -> int | None:
    """The member a card number or a phone number names, or None: a card number is tried first (a
    card still in use, of a member), then a phone held by exactly one member."""
    if not isinstance(identifier, str) or not identifier.strip() or len(identifier) > 64:
        return None
    try:
        card_no = normalize_card_no(identifier)
    except ValidationFailed:
        card_no = None
    if card_no is not None:
        member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no,
                                                          Card.status.not_in(RETIRED_CARDS)))
        if member_id is not None:
            return member_id
    phone = phone_e164(identifier.strip(), phone_region_of(db))
    if phone is None:
        return None
    holders = db.scalars(select(Member.id).where(Member.phone_index == phone, Member.status.in_(HOLDS_PHONE))
                         .limit(2)).all()
    return holders[0] if len(holders) == 1 else None


def address_throttled(db, address, now) -> bool:
    if not address:
        return False
    failures = db.scalar(select(func.count()).select_from(PortalFailure)
                         .where(PortalFailure.address == address, PortalFailure.at > now - WINDOW,
                                PortalFailure.kind != "code_sent"))
    return failures >= ADDRESS_MAX_FAILURES


def note_attempt(db, address, member_id, kind, now):
    """Count an attempt (`kind`: password, code, code_sent) against the address and the member;
    attempts older than the window are forgotten on the way (anyone's)."""
    db.execute(delete(PortalFailure).where(PortalFailure.at <= now - WINDOW))
    db.execute(insert(PortalFailure).values(address=(address or None) and address[:64], member_id=member_id,
                                            kind=kind, at=now))


def attempts_since(db, kind, now, *, member_id=None, address=None) -> int:
    query = select(func.count()).select_from(PortalFailure).where(PortalFailure.kind == kind,
                                                                   PortalFailure.at > now - WINDOW)
    if member_id is not None:
        query = query.where(PortalFailure.member_id == member_id)
    if address is not None:
        query = query.where(PortalFailure.address == address[:64])
    return db.scalar(query)


@dataclass(frozen=True)
class PortalSignIn:
    """The outcome of a sign-in: the member, or an error in words for the form (a TranslationString)."""

    member_id: int | None = None
    error: object = None
    throttled: bool = False


def sign_in_with_password(db, identifier, password, *, address=None, now=None) -> PortalSignIn:
    """Check a member's password. After MAX_FAILED_LOGINS failures the account is locked for
    LOCKOUT; an address with ADDRESS_MAX_FAILURES failures in WINDOW is refused before any check."""
    now = as_utc(now or utcnow())
    if address_throttled(db, address, now):
        return PortalSignIn(error=THROTTLED, throttled=True)
    member_id = find_member(db, identifier)
    credential = db.scalar(select(MemberCredential).where(MemberCredential.member_id == member_id)
                           .with_for_update()) if member_id is not None else None
    right = secret_matches(credential.password_hash if credential else None, password)
    if credential is None:
        note_attempt(db, address, None, "password", now)
        return PortalSignIn(error=REFUSED)
    if credential.locked_until and as_utc(credential.locked_until) > now:
        note_attempt(db, address, member_id, "password", now)
        return PortalSignIn(error=REFUSED)
    if not right:
        failures = credential.failed_logins + 1
        locked = now + LOCKOUT if failures >= MAX_FAILED_LOGINS else None
        db.execute(update(MemberCredential).where(MemberCredential.member_id == member_id)
                   .values(failed_logins=0 if locked else failures, locked_until=locked))
        note_attempt(db, address, member_id, "password", now)
        return PortalSignIn(error=REFUSED)
    problem = member_may_sign_in(db, member_id)
    if problem is not None:
        return PortalSignIn(error=problem)
    values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if _hasher.check_needs_rehash(credential.password_hash):
        values["password_hash"] = _hasher.hash(password)
    db.execute(update(MemberCredential).where(MemberCredential.member_id == member_id).values(**values))
    return PortalSignIn(member_id)


def member_may_sign_in(db, member_id):
    """None if the member may sign in now, else the message that says why not."""
    status = db.scalar(select(Member.status).where(Member.id == member_id))
    if status in SIGNED_IN_STATUSES:
        return None
    return PENDING if status == "pending" else NOT_ACTIVE


def check_new_password(password, confirm) -> dict:
    """Problems of a new password and its confirmation, by field (empty when both are fine)."""
    problem = password_problem(password)
    if problem:
        return {"password": problem}
    if password != confirm:
        return {"confirm": dgettext("lps_portal", "The two passwords are not the same.")}
    return {}


def set_password(db, member_id, password, *, now=None) -> None:
    """Write a member's password (already checked by check_new_password) and end every portal
    session of theirs: the caller starts a fresh one for the member who changed it."""
    now = as_utc(now or utcnow())
    values = {"password_hash": _hasher.hash(password), "failed_logins": 0, "locked_until": None, "changed_at": now}
    updated = db.execute(update(MemberCredential).where(MemberCredential.member_id == member_id).values(**values))
    if not updated.rowcount:
        db.execute(insert(MemberCredential).values(member_id=member_id, **values))
    end_sessions(db, member_id)


def has_password(db, member_id) -> bool:
    return db.scalar(select(MemberCredential.member_id).where(MemberCredential.member_id == member_id)) is not None
