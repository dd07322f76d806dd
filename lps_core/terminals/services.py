"""Registering and revoking terminals, checking a terminal's key, and passing swipes from a
terminal to a cashier screen.

A key reads `lpt_<prefix>_<secret>` (t for terminal: it is no API key and opens no API scope). As
for API keys the prefix finds the row and the secret is compared by its SHA-256; it is checked
on every swipe without a cache, so a revoked terminal is refused at once.

A swipe carries the agent's id for it: sent again (the agent did not hear the answer), it is
recognised and stored once. It is handed to one cashier screen at most: the screen that takes it
marks it taken in the same statement that checks it was not. It carries when it expires; an
expired swipe is never handed out, and swipes past their time are deleted as new ones arrive."""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from lps_core.cards.models import Card
from lps_core.errors import NotFound, ValidationFailed
from lps_core.operators.models import Operator
from lps_core.operators.permissions import Permission
from lps_core.operators.services import get_operator
from lps_core.outlets.models import Outlet
from lps_core.terminals.models import Terminal, TerminalOperator, TerminalSwipe
from lps_core.timeutil import utcnow

KEY_PREFIX = "lpt"
# A taken or expired swipe is kept this long (for a look at the table while troubleshooting), then
# deleted when the next swipe arrives.
KEEP_SWIPES = timedelta(hours=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SwipeIn:
    """A swipe as the agent sends it: its id, a card number or a tag id, and how many seconds it
    has left before it expires."""

    swipe_id: str
    card_no: str | None
    tag_id: str | None
    expires_in: float


def _check_operators(db, outlet_id, operator_ids) -> list[int]:
    """The operators, each one who may settle bills at the outlet (a terminal feeds a cashier)."""
    if not operator_ids:
        raise ValidationFailed("choose the operators whose cashier screen the terminal feeds",
                               {"operators": "choose at least one operator"})
    for operator_id in set(operator_ids):
        if not _is_cashier_of(get_operator(db, operator_id), outlet_id):
            raise ValidationFailed("an operator chosen is no cashier of this outlet",
                                   {"operators": "choose cashiers of the terminal's outlet"})
    return sorted(set(operator_ids))


def _is_cashier_of(identity, outlet_id) -> bool:
    return (identity is not None and Permission.CASHIER_SETTLE in identity.permissions
            and identity.covers_outlet(outlet_id))


def cashiers_of(db, outlet_id) -> list:
    """The active operators who may settle bills at the outlet: whom a terminal there may feed."""
    identities = (get_operator(db, operator_id) for operator_id in
                  db.scalars(select(Operator.id).where(Operator.active.is_(True)).order_by(Operator.username)))
    return [identity for identity in identities if _is_cashier_of(identity, outlet_id)]


def create_terminal(db, outlet_id, name, operator_ids, *, by=None) -> tuple[Terminal, str]:
    """Register a terminal at an outlet feeding the operators' cashier screens; the key is returned
    in clear text, the only time it is ever seen."""
    if db.get(Outlet, outlet_id) is None:
        raise NotFound("no such outlet", {"outlet": "no such outlet"})
    operators = _check_operators(db, outlet_id, operator_ids)
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    terminal = Terminal(outlet_id=outlet_id, name=name, prefix=prefix, secret_hash=_hash(secret),
                        created_at=utcnow(), created_by=by)
    db.add(terminal)
    db.flush()
    _write_operators(db, terminal.id, operators)
    return terminal, f"{KEY_PREFIX}_{prefix}_{secret}"


def _write_operators(db, terminal_id, operator_ids):
    db.execute(delete(TerminalOperator).where(TerminalOperator.terminal_id == terminal_id))
    if operator_ids:
        db.execute(insert(TerminalOperator), [{"terminal_id": terminal_id, "operator_id": operator_id}
                                              for operator_id in operator_ids])


def change_terminal(db, terminal, name, operator_ids) -> tuple[dict, dict]:
    """Rename a terminal and change the operators it feeds; (before, after) for the audit log."""
    before = terminal_fields(db, terminal)
    operators = _check_operators(db, terminal.outlet_id, operator_ids)
    terminal.name = name
    _write_operators(db, terminal.id, operators)
    db.flush()
    return before, terminal_fields(db, terminal)


def revoke_terminal(db, terminal) -> bool:
    """Revoke the terminal's key: its next swipe is refused (401). False if it was revoked already."""
    if terminal.revoked_at is not None:
        return False
    terminal.revoked_at = utcnow()
    db.execute(delete(TerminalSwipe).where(TerminalSwipe.terminal_id == terminal.id,
                                           TerminalSwipe.taken_at.is_(None)))
    db.flush()
    return True


def get_terminal(db, terminal_id) -> Terminal:
    terminal = db.get(Terminal, terminal_id)
    if terminal is None:
        raise NotFound("no such terminal", {"id": "no such terminal"})
    return terminal


def operator_ids_of(db, terminal_id) -> list[int]:
    return list(db.scalars(select(TerminalOperator.operator_id).where(TerminalOperator.terminal_id == terminal_id)
                           .order_by(TerminalOperator.operator_id)))


def terminal_fields(db, terminal) -> dict:
    """A terminal as the audit log keeps it (never its key)."""
    usernames = list(db.scalars(select(Operator.username).join(TerminalOperator,
                                                               TerminalOperator.operator_id == Operator.id)
                                .where(TerminalOperator.terminal_id == terminal.id).order_by(Operator.username)))
    return {"name": terminal.name, "outlet_id": terminal.outlet_id, "prefix": terminal.prefix,
            "operators": usernames, "revoked": terminal.revoked_at is not None}


def list_terminals(db, outlet_ids=None) -> list[dict]:
    """Every terminal (of `outlet_ids` when given), live ones first, with its outlet and operators."""
    query = (select(Terminal, Outlet.code).join(Outlet, Outlet.id == Terminal.outlet_id)
             .order_by(Terminal.revoked_at.is_not(None), Outlet.code, Terminal.name))
    if outlet_ids is not None:
        query = query.where(Terminal.outlet_id.in_(sorted(outlet_ids)))
    rows = db.execute(query).all()
    names = {}
    for terminal_id, username in db.execute(
            select(TerminalOperator.terminal_id, Operator.username)
            .join(Operator, Operator.id == TerminalOperator.operator_id).order_by(Operator.username)):
        names.setdefault(terminal_id, []).append(username)
    return [{"terminal": terminal, "outlet": code, "operators": names.get(terminal.id, [])} for terminal, code in rows]


def check_key(db, token) -> Terminal | None:
    """The live terminal whose key `token` is (at an open outlet), or None."""
    parts = (token or "").split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    terminal = db.scalar(select(Terminal).join(Outlet, Outlet.id == Terminal.outlet_id)
                         .where(Terminal.prefix == parts[1], Terminal.revoked_at.is_(None), Outlet.active.is_(True)))
    if terminal is None or not hmac.compare_digest(terminal.secret_hash, _hash(parts[2])):
        return None
    return terminal


def record_swipe(db, terminal, swipe: SwipeIn, now=None) -> tuple[TerminalSwipe, bool]:
    """Store a swipe from `terminal`; (the swipe, whether it was a duplicate of one already stored).
    A tag is resolved to the card it is registered on now, so the screen gets a card number."""
    now = now or utcnow()
    terminal.last_seen_at = now
    existing = _swipe(db, terminal.id, swipe.swipe_id)
    if existing is not None:
        return existing, True
    card_no = swipe.card_no
    if swipe.tag_id is not None:
        card_no = db.scalar(select(Card.card_no).where(Card.tag_id == swipe.tag_id))
    db.execute(delete(TerminalSwipe).where(TerminalSwipe.expires_at < now - KEEP_SWIPES))
    try:
        with db.begin_nested():
            db.execute(insert(TerminalSwipe).values(
                terminal_id=terminal.id, swipe_id=swipe.swipe_id, card_no=card_no, tag_id=swipe.tag_id,
                received_at=now, expires_at=now + timedelta(seconds=swipe.expires_in)))
    except IntegrityError:  # the same swipe, sent again at the same moment by a retry
        return _swipe(db, terminal.id, swipe.swipe_id), True
    return _swipe(db, terminal.id, swipe.swipe_id), False


def _swipe(db, terminal_id, swipe_id):
    return db.scalar(select(TerminalSwipe).where(TerminalSwipe.terminal_id == terminal_id,
                                                 TerminalSwipe.swipe_id == swipe_id))


def take_swipes(db, operator_id, outlet_id, now=None) -> list[dict]:
    """The swipes waiting for this operator's cashier screen at this outlet, oldest first, each
    marked taken so that no other screen (another tab) gets it too. Expired ones are left."""
    now = now or utcnow()
    waiting = db.execute(
        select(TerminalSwipe.id, TerminalSwipe.card_no, TerminalSwipe.tag_id, Terminal.name)
        .join(Terminal, Terminal.id == TerminalSwipe.terminal_id)
        .join(TerminalOperator, TerminalOperator.terminal_id == Terminal.id)
        .where(TerminalOperator.operator_id == operator_id, Terminal.outlet_id == outlet_id,
               Terminal.revoked_at.is_(None), TerminalSwipe.taken_at.is_(None), TerminalSwipe.expires_at > now)
        .order_by(TerminalSwipe.id)).all()
    taken = []
    for row in waiting:
        claimed = db.execute(update(TerminalSwipe).where(TerminalSwipe.id == row.id, TerminalSwipe.taken_at.is_(None))
                             .values(taken_at=now, taken_by=operator_id)).rowcount
        if claimed:
            taken.append({"id": row.id, "card_no": row.card_no, "tag_id": row.tag_id, "terminal": row.name})
    return taken
