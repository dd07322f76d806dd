"""Creating operators and checking their passwords, with a lock-out after repeated failures."""
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update

from lps_core.errors import Conflict, ValidationFailed
from lps_core.operators.models import Operator
from lps_core.timeutil import as_utc, utcnow

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
_hasher = PasswordHasher()


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt; `error` says why it failed, in words fit for the form."""

    operator_id: int | None = None
    must_change_password: bool = False
    error: str | None = None


def check_password_policy(password, username=""):
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed("password too short", {"password": f"must be at least {MIN_PASSWORD_LENGTH} characters"})
    if username and username.lower() in password.lower():
        raise ValidationFailed("password contains the user name", {"password": "must not contain the user name"})
    if password.isdigit() or password.isalpha():
        raise ValidationFailed("password too simple", {"password": "must mix letters with digits or symbols"})


def create_operator(db, username, password, *, display_name=None, roles=("admin",), must_change_password=True) -> int:
    username = (username or "").strip().lower()
    if not username or len(username) > 64 or not username.replace(".", "").replace("-", "").isalnum():
        raise ValidationFailed("bad user name", {"username": "must be 1 to 64 letters, digits, dots or dashes"})
    check_password_policy(password, username)
    if db.scalar(select(Operator.id).where(Operator.username == username)) is not None:
        raise Conflict(f"operator {username!r} already exists", {"username": "is taken"})
    return db.scalar(insert(Operator).values(
        username=username, display_name=display_name or username, password_hash=_hasher.hash(password),
        roles=" ".join(roles), must_change_password=must_change_password, created_at=utcnow(),
    ).returning(Operator.id))


def set_password(db, operator_id, password, *, must_change_password=False):
    username = db.scalar(select(Operator.username).where(Operator.id == operator_id))
    check_password_policy(password, username)
    db.execute(update(Operator).where(Operator.id == operator_id).values(
        password_hash=_hasher.hash(password), must_change_password=must_change_password,
        failed_logins=0, locked_until=None))


def sign_in(db, username, password) -> SignIn:
    """Check a password. After MAX_FAILED_LOGINS failures the account is locked for LOCKOUT,
    and the answer does not tell whether the user name exists."""
    refused = SignIn(error="The user name or password is not right.")
    operator = db.execute(
        select(Operator).where(Operator.username == (username or "").strip().lower()).with_for_update()
    ).scalar_one_or_none()
    if operator is None or not operator.active:
        return refused
    now = utcnow()
    if operator.locked_until and as_utc(operator.locked_until) > now:
        return SignIn(error="Too many failed attempts: this account is locked for a few minutes.")
    try:
        _hasher.verify(operator.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        failures = operator.failed_logins + 1
        locked = now + LOCKOUT if failures >= MAX_FAILED_LOGINS else None
        db.execute(update(Operator).where(Operator.id == operator.id)
                   .values(failed_logins=0 if locked else failures, locked_until=locked))
        return refused
    values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if _hasher.check_needs_rehash(operator.password_hash):
        values["password_hash"] = _hasher.hash(password)
    db.execute(update(Operator).where(Operator.id == operator.id).values(**values))
    return SignIn(operator.id, operator.must_change_password)


def get_operator(db, operator_id):
    return db.execute(
        select(Operator.id, Operator.username, Operator.display_name, Operator.roles,
               Operator.must_change_password).where(Operator.id == operator_id, Operator.active.is_(True))
    ).one_or_none()
