"""Operators: creating them with roles and an outlet scope, passwords and their policy, sign-in
with lock-out per account and throttling per client address. Every change is audited.

A failed sign-in gives one answer, in about the same time, whether the user name is unknown, the
account disabled or locked, or the password wrong: the password is always checked with argon2
(against a dummy hash when there is no account), so neither the words nor the time tell which."""
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, or_, select, update

from lps_core.audit.services import SYSTEM, Actor, record
from lps_core.errors import Conflict, NotFound, ValidationFailed
from lps_core.i18n import _
from lps_core.operators.access import OperatorIdentity
from lps_core.operators.models import Operator, OperatorScope
from lps_core.operators.roles import HQ_ROLES, ROLES
from lps_core.operators.sessions import end_sessions
from lps_core.operators.throttle import address_throttled, note_failure
from lps_core.outlets.models import Outlet, Property
from lps_core.timeutil import as_utc, utcnow

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
ALL_OUTLETS = "all"
# The one answer to every failed sign-in but a throttled address: it tells nothing about the account.
REFUSED = _("The user name or password is not right.")
_hasher = PasswordHasher()
# Checked against when there is no account, so an unknown user name costs the same argon2 work.
_DUMMY_HASH = _hasher.hash("no such operator: a password nobody types")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt; `error` says why it failed, in words fit for the form;
    `throttled` is set when the client address has failed too often."""

    operator_id: int | None = None
    must_change_password: bool = False
    error: str | None = None
    throttled: bool = False


def password_problem(password, username="") -> str | None:
    """What is wrong with a new password, in words for beside the field; None when it is fine."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return _("must be at least ${length} characters", mapping={"length": MIN_PASSWORD_LENGTH})
    if username and username.lower() in password.lower():
        return _("must not contain the user name")
    classes = {"letter" if c.isalpha() else "digit" if c.isdigit() else "symbol" for c in password}
    if len(classes) < 2:
        return _("must mix letters with digits or symbols")
    return None


def check_password_policy(password, username=""):
    problem = password_problem(password, username)
    if problem:
        raise ValidationFailed(f"password {problem}", {"password": problem})


def _username_problem(username):
    if not username or len(username) > 64 or not username.replace(".", "").replace("-", "").isalnum():
        return "must be 1 to 64 letters, digits, dots or dashes"
    return None


def _roles_problem(roles):
    if not roles:
        return "name at least one role"
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        return f"unknown {', '.join(unknown)}; roles are {', '.join(ROLES)}"
    return None


def resolve_scope(db, roles, outlets):
    """(all_outlets, outlet ids, property ids) from outlet or property codes, or ["all"].

    Without codes, an operator whose roles are all HQ roles sees every outlet; anyone else must be
    given outlets. Raises ValidationFailed naming the codes that match nothing."""
    codes = [code.strip() for code in (outlets or []) if code.strip()]
    if ALL_OUTLETS in codes or (not codes and roles and set(roles) <= HQ_ROLES):
        return True, [], []
    if not codes:
        raise ValidationFailed("no outlets", {"outlets": "name outlet or property codes, or 'all'"})
    outlet_ids = dict(db.execute(select(Outlet.code, Outlet.id).where(Outlet.code.in_(codes))).all())
    property_ids = dict(db.execute(select(Property.code, Property.id)
                                   .where(Property.code.in_(set(codes) - set(outlet_ids)))).all())
    unknown = [code for code in codes if code not in outlet_ids and code not in property_ids]
    if unknown:
        raise ValidationFailed("unknown outlets", {"outlets": f"no outlet or property {', '.join(unknown)}"})
    return False, sorted(set(outlet_ids.values())), sorted(set(property_ids.values()))


def create_operator(db, username, password, *, display_name=None, roles=("administrator",), outlets=None,
                    must_change_password=True, actor=SYSTEM, address=None) -> int:
    """A new operator with `roles` (names from roles.ROLES) and `outlets` (outlet or property
    codes, or ["all"]); every bad field is reported at once."""
    username = (username or "").strip().lower()
    roles = tuple(dict.fromkeys(roles or ()))
    problems = {"username": _username_problem(username), "password": password_problem(password, username),
                "roles": _roles_problem(roles)}
    try:
        scope = resolve_scope(db, roles, outlets)
    except ValidationFailed as exc:
        problems.update(exc.fields)
    problems = {field: problem for field, problem in problems.items() if problem}
    if problems:
        raise ValidationFailed("the operator cannot be created as given", problems)
    if db.scalar(select(Operator.id).where(Operator.username == username)) is not None:
        raise Conflict(f"operator {username!r} already exists", {"username": "is taken"})
    all_outlets, outlet_ids, property_ids = scope
    operator_id = db.scalar(insert(Operator).values(
        username=username, display_name=display_name or username, password_hash=_hasher.hash(password),
        roles=" ".join(roles), all_outlets=all_outlets, must_change_password=must_change_password,
        created_at=utcnow(),
    ).returning(Operator.id))
    _write_scope(db, operator_id, outlet_ids, property_ids)
    record(db, actor=actor, action="operator.create", target=("operator", operator_id), address=address,
           after={**describe_operator(db, operator_id), "display_name": display_name or username})
    return operator_id


def set_roles(db, operator_id, roles, outlets, *, actor, address=None):
    """Replace an operator's roles and outlet scope."""
    roles = tuple(dict.fromkeys(roles or ()))
    problem = _roles_problem(roles)
    if problem:
        raise ValidationFailed("bad roles", {"roles": problem})
    before = describe_operator(db, operator_id)
    all_outlets, outlet_ids, property_ids = resolve_scope(db, roles, outlets)
    db.execute(update(Operator).where(Operator.id == operator_id)
               .values(roles=" ".join(roles), all_outlets=all_outlets))
    db.execute(delete(OperatorScope).where(OperatorScope.operator_id == operator_id))
    _write_scope(db, operator_id, outlet_ids, property_ids)
    record(db, actor=actor, action="operator.roles", target=("operator", operator_id), address=address,
           before=before, after=describe_operator(db, operator_id))


def describe_operator(db, operator_id) -> dict:
    """Roles and scope by name, as the audit log and the screens show them."""
    row = db.execute(select(Operator.username, Operator.roles, Operator.all_outlets)
                     .where(Operator.id == operator_id)).one_or_none()
    if row is None:
        raise NotFound(f"no operator {operator_id}", {"operator": "no such operator"})
    scoped = db.execute(
        select(Outlet.code, Property.code).select_from(OperatorScope)
        .outerjoin(Outlet, Outlet.id == OperatorScope.outlet_id)
        .outerjoin(Property, Property.id == OperatorScope.property_id)
        .where(OperatorScope.operator_id == operator_id)
    ).all()
    outlets = [ALL_OUTLETS] if row.all_outlets else sorted(outlet or prop for outlet, prop in scoped)
    return {"username": row.username, "roles": row.roles.split(), "outlets": outlets}


def _write_scope(db, operator_id, outlet_ids, property_ids):
    rows = [{"operator_id": operator_id, "outlet_id": i, "property_id": None} for i in outlet_ids]
    rows += [{"operator_id": operator_id, "outlet_id": None, "property_id": i} for i in property_ids]
    if rows:
        db.execute(insert(OperatorScope), rows)


def set_active(db, operator_id, active: bool, *, actor, address=None):
    """Disable an operator (they can no longer sign in, and every session of theirs ends) or enable them again."""
    before = db.scalar(select(Operator.active).where(Operator.id == operator_id))
    if before is None:
        raise NotFound(f"no operator {operator_id}", {"operator": "no such operator"})
    db.execute(update(Operator).where(Operator.id == operator_id).values(active=active))
    if not active:
        end_sessions(db, operator_id)
    record(db, actor=actor, action="operator.enable" if active else "operator.disable",
           target=("operator", operator_id), address=address, before={"active": before}, after={"active": active})


def set_password(db, operator_id, password, *, must_change_password=False, actor=SYSTEM, address=None):
    """A new password; every session of the operator ends (the caller starts a fresh one for the
    operator who changed their own password)."""
    username = db.scalar(select(Operator.username).where(Operator.id == operator_id))
    check_password_policy(password, username)
    db.execute(update(Operator).where(Operator.id == operator_id).values(
        password_hash=_hasher.hash(password), must_change_password=must_change_password,
        failed_logins=0, locked_until=None))
    end_sessions(db, operator_id)
    record(db, actor=actor, action="operator.password", target=("operator", operator_id), address=address,
           after={"must_change_password": must_change_password})


def sign_in(db, username, password, *, address=None) -> SignIn:
    """Check a password. After MAX_FAILED_LOGINS failures the account is locked for LOCKOUT. An
    unknown user name, a disabled or locked account and a wrong password get the same answer
    after the same argon2 work; the audit entry records the real reason. An address that failed
    too often (throttle.py) is refused before any password is checked. Every attempt is audited."""
    username = (username or "").strip().lower()[:64]
    now = utcnow()
    attempt = Actor.operator(None, username or "-")
    if address_throttled(db, address, now):
        record(db, actor=attempt, action="operator.sign_in_throttled", target=None, address=address)
        return SignIn(error=_("Too many failed sign-ins from this address: wait 15 minutes, then try again."),
                      throttled=True)
    refused = SignIn(error=REFUSED)
    operator = db.execute(select(Operator).where(Operator.username == username).with_for_update()).scalar_one_or_none()
    password_right = _password_matches(operator.password_hash if operator else _DUMMY_HASH, password)
    if operator is None or not operator.active:
        return _failed(db, attempt, None, address, now, refused, "unknown or disabled operator")
    attempt = Actor.operator(operator.id, operator.username)
    if operator.locked_until and as_utc(operator.locked_until) > now:
        return _failed(db, attempt, operator.id, address, now, refused, "account locked")
    if not password_right:
        failures = operator.failed_logins + 1
        locked = now + LOCKOUT if failures >= MAX_FAILED_LOGINS else None
        db.execute(update(Operator).where(Operator.id == operator.id)
                   .values(failed_logins=0 if locked else failures, locked_until=locked))
        return _failed(db, attempt, operator.id, address, now, refused, "wrong password")
    values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if _hasher.check_needs_rehash(operator.password_hash):
        values["password_hash"] = _hasher.hash(password)
    db.execute(update(Operator).where(Operator.id == operator.id).values(**values))
    record(db, actor=attempt, action="operator.sign_in", target=("operator", operator.id), address=address)
    return SignIn(operator.id, operator.must_change_password)


def _password_matches(password_hash, password) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def _failed(db, actor, operator_id, address, now, answer, reason):
    note_failure(db, address, now)
    record(db, actor=actor, action="operator.sign_in_failed", address=address,
           target=("operator", operator_id) if operator_id else None, after={"reason": reason})
    return answer


def get_operator(db, operator_id) -> OperatorIdentity | None:
    """The active operator with their roles and resolved outlet scope, or None."""
    row = db.execute(
        select(Operator.id, Operator.username, Operator.display_name, Operator.roles,
               Operator.must_change_password, Operator.all_outlets)
        .where(Operator.id == operator_id, Operator.active.is_(True))
    ).one_or_none()
    if row is None:
        return None
    outlet_ids = frozenset()
    if not row.all_outlets:
        scope = select(OperatorScope.outlet_id, OperatorScope.property_id).where(OperatorScope.operator_id == row.id)
        scoped = db.execute(scope).all()
        outlet_ids = frozenset(db.scalars(select(Outlet.id).where(or_(
            Outlet.id.in_([s.outlet_id for s in scoped if s.outlet_id]),
            Outlet.property_id.in_([s.property_id for s in scoped if s.property_id]),
        ))))
    return OperatorIdentity(row.id, row.username, row.display_name, frozenset(row.roles.split()),
                            row.must_change_password, row.all_outlets, outlet_ids)
