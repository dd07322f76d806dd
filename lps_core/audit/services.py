"""Recording audit entries and searching them."""
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import TextClause, event, func, insert, select
from sqlalchemy.orm import Session

from lps_core.audit.masking import HIDDEN, cleaned, without_secrets
from lps_core.audit.models import AuditEntry
from lps_core.errors import ValidationFailed
from lps_core.timeutil import utcnow

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Actor:
    """Who did it: an operator, an API key, or LPS itself (CLI, jobs)."""

    kind: str
    name: str
    id: int | None = None

    @classmethod
    def operator(cls, operator_id, username):
        return cls("operator", username, operator_id)

    @classmethod
    def api_key(cls, key_id, name):
        return cls("api_key", name, key_id)


SYSTEM = Actor("system", "system")


RECORDED = "lps.audit.recorded"
WRITES = "lps.audit.writes"
TEXT_WRITE = re.compile(r"\s*(insert|update|delete|merge)\b", re.IGNORECASE)
UNKNOWN_NAME_KEPT = 2


def record(db, *, actor, action, target, before=None, after=None, address=None, outlet_id=None) -> int:
    """Add an entry to the audit log in the caller's transaction; returns its id.

    `action` is a code such as "member.edit" (lps_core.audit.actions gives it a human name);
    `target` is (type, id), e.g. ("operator", 7), or None; `before` and `after` are JSON-able
    dicts (Decimal and datetime are written as text). Only what changed is kept: a field equal on
    both sides, or blank on both, is left out, and so is a blank field of a new thing. Then staff
    secrets are dropped and personal data is masked (lps_core.audit.masking), whoever the caller;
    a user name that no operator has is kept only in part."""
    target_type, target_id = target if target else (None, None)
    before, after = changes(_jsonable(before), _jsonable(after))
    entry_id = db.scalar(insert(AuditEntry).values(
        at=utcnow(), actor_kind=actor.kind, actor_id=actor.id, actor_name=_actor_name(actor),
        address=address, action=action, target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:200],
        before=cleaned(before), after=cleaned(after), outlet_id=outlet_id,
    ).returning(AuditEntry.id))
    info = getattr(db, "info", None)
    if info is not None:
        info[RECORDED] = info.get(RECORDED, 0) + 1
    return entry_id


def _actor_name(actor) -> str:
    """The actor's name; for an operator no account has (a failed sign-in with an unknown user name),
    only its first 2 characters: what was typed into the name field is often a password."""
    if actor.kind == "operator" and actor.id is None and actor.name != "-":
        return actor.name[:UNKNOWN_NAME_KEPT] + HIDDEN
    return actor.name[:100]


@event.listens_for(Session, "do_orm_execute")
def _count_statement_writes(state):
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete or (
            isinstance(statement, TextClause) and TEXT_WRITE.match(statement.text)):
        _count_write(state.session)


@event.listens_for(Session, "after_flush")
def _count_flushed_writes(session, flush_context):
    if session.new or session.dirty or session.deleted:
        _count_write(session)


def _count_write(session):
    session.info[WRITES] = session.info.get(WRITES, 0) + 1


def writes_in(db) -> int:
    """How many writing statements (and flushes) this session has run: a request that wrote
    nothing (a form sent again, answered from its first result) is no action to record."""
    return getattr(db, "info", {}).get(WRITES, 0)


def recorded_in(db) -> bool:
    """Whether this session has recorded an entry: a request whose view recorded its business
    action gets no second, generic entry from the tweens."""
    return bool(getattr(db, "info", {}).get(RECORDED))


def changes(before, after):
    """(before, after) reduced to what an auditor needs; None for an empty side.

    For a change (both sides given as dicts), the fields that differ, each with its old and new
    value, an empty one (None) included: "was empty" is part of the change. For a new thing (one
    side only), every field that has a value: blank form fields are left out. Compared in clear
    with secrets already dropped, so a masked value that looks the same on both sides
    ("138****0042") still shows that it changed."""
    before, after = without_secrets(before), without_secrets(after)
    if isinstance(before, dict) and isinstance(after, dict):
        names = [name for name in dict.fromkeys([*before, *after])
                 if not _same(before.get(name), after.get(name))]
        return ({name: before[name] for name in names if name in before} or None,
                {name: after[name] for name in names if name in after} or None)
    return _pruned(before) or None, _pruned(after) or None


def _same(old, new) -> bool:
    """Whether two values are alike for an auditor: equal without their blanks, or both blank."""
    old, new = _pruned(old), _pruned(new)
    return old == new or (_blank(old) and _blank(new))


def _pruned(value):
    """The value without blank fields ("", None, empty lists and dicts), at any depth."""
    if isinstance(value, dict):
        value = {name: _pruned(item) for name, item in value.items()}
        return {name: item for name, item in value.items() if not _blank(item)}
    if isinstance(value, list):
        return [item for item in (_pruned(item) for item in value) if not _blank(item)]
    return value


def _blank(value) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == [] or value == {}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return str(value)  # a TranslationString is kept as its plain text
    return value


@dataclass(frozen=True)
class AuditPage:
    entries: list
    total: int
    page: int
    per_page: int


def search_audit(db, *, actor=None, action=None, target_type=None, target_id=None, since=None, until=None,
                 outlet_ids=None, page=1, per_page=50) -> AuditPage:
    """Entries newest first, filtered by actor name, action (exact, or a prefix ending in '.' such
    as 'operator.'), target, the time range [since, until), and, for an operator scoped to some
    outlets, `outlet_ids` (entries of other outlets and of no outlet are left out)."""
    if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
        raise ValidationFailed("bad page", {"per_page": f"must be 1 to {MAX_PER_PAGE}", "page": "must be at least 1"})
    conditions = audit_conditions(actor=actor, action=action, target_type=target_type, target_id=target_id,
                                  since=since, until=until, outlet_ids=outlet_ids)
    total = db.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
    entries = db.execute(select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc())
                         .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return AuditPage(list(entries), total, page, per_page)


def audit_conditions(*, actor=None, action=None, target_type=None, target_id=None, since=None, until=None,
                     outlet_ids=None) -> list:
    """The WHERE conditions of an audit search (see search_audit), for lists that sort and page themselves."""
    conditions = []
    if actor:
        conditions.append(AuditEntry.actor_name == actor)
    if action:
        conditions.append(AuditEntry.action.startswith(action, autoescape=True) if action.endswith(".")
                          else AuditEntry.action == action)
    if target_type:
        conditions.append(AuditEntry.target_type == target_type)
    if target_id is not None:
        conditions.append(AuditEntry.target_id == str(target_id))
    if since is not None:
        conditions.append(AuditEntry.at >= since)
    if until is not None:
        conditions.append(AuditEntry.at < until)
    if outlet_ids is not None:
        conditions.append(AuditEntry.outlet_id.in_(sorted(outlet_ids)))
    return conditions
