"""A card's life after its number is made: finding a card fit for a use, selling anonymous bearer
cards, status changes, replacing a lost card, PIN changes and resets, and renewal of its validity."""
from datetime import timedelta

from sqlalchemy import select, update

from lps_core.cards.models import Card
from lps_core.cards.pins import hash_pin, verify_pin
from lps_core.cards.products import CardUse, ensure_usable
from lps_core.cards.services import (
    CardView,
    claim_card,
    find_card,
    get_card_type,
    issue_values,
    normalize_card_no,
    open_card_accounts,
)
from lps_core.db.stamps import changed_now
from lps_core.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from lps_core.ledger.models import Account
from lps_core.members.models import Member
from lps_core.timeutil import as_utc, isoformat, utcnow

# Which status a staff member may move a card to, from each status. "replaced" is reached only by
# replace_card; lost, replaced and cancelled are final (a lost card can still be replaced).
TRANSITIONS = {
    "pending": {"active", "cancelled"},
    "active": {"frozen", "lost", "cancelled"},
    "frozen": {"active", "lost", "cancelled"},
    "lost": {"cancelled"},
    "unissued": {"cancelled"},
    "replaced": set(),
    "cancelled": set(),
}
STAFF_STATUSES = ("active", "frozen", "lost", "cancelled")
REPLACEABLE = ("active", "frozen", "lost")


def card_for_purpose(db, raw_card_no, at, purpose, *, tz=None, field="card_no") -> CardView:
    """The card, as earning and redemption read it, if it may be used for `purpose` at `at` by
    the one rule of lps_core.cards.products.ensure_usable (status, validity, member)."""
    card_no = normalize_card_no(raw_card_no, field)
    card = find_card(db, card_no)
    if card is None:
        raise Unprocessable(f"card {card_no} is not known", {field: "no such card"})
    ensure_usable(CardUse(card.card_no, card.status, card.member_id is not None, card.member_status,
                          card.valid_from, card.valid_to, card.type_valid_from, card.type_valid_to),
                  at, purpose, tz=tz, field=field)
    return card


def locked_card(db, raw_card_no, field="card_no") -> Card:
    """The card row, locked until the transaction ends so that two changes of one card queue up."""
    card_no = normalize_card_no(raw_card_no, field)
    card = db.scalar(select(Card).where(Card.card_no == card_no).with_for_update())
    if card is None:
        raise NotFound(f"card {card_no} is not known", {field: "no such card"})
    return card


def sell_anonymous_card(db, card_type_code, pin, *, card_no=None, outlet_id=None, now=None) -> Card:
    """Sell a bearer card of an anonymous card type over the counter: active, no member, protected
    by `pin` (already checked by its schema), its stored value account open and empty. Takes the
    pool card `card_no` when given (the one in the guest's hand), else the pool's oldest or a new number."""
    now = now or utcnow()
    card_type = get_card_type(db, card_type_code)
    if not card_type.anonymous:
        raise Unprocessable(f"card type {card_type.code!r} is not an anonymous card type",
                            {"card_type": "is not anonymous"})
    if not card_type.active:
        raise Unprocessable(f"card type {card_type.code!r} is no longer issued", {"card_type": "is inactive"})
    card_id = _pool_card(db, card_no, card_type) if card_no is not None else claim_card(db, card_type)
    db.execute(update(Card).where(Card.id == card_id).values(
        member_id=None, pin_hash=hash_pin(pin), pin_failures=0, pin_locked_until=None,
        **issue_values(card_type, now, outlet_id)))
    open_card_accounts(db, card_id, card_type, now)
    return db.get(Card, card_id)


def change_status(db, raw_card_no, status, reason, *, now=None) -> Card:
    """Move a card to `status` (one of STAFF_STATUSES) if TRANSITIONS allows it; asking for the
    status it already has changes nothing."""
    if status not in STAFF_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(STAFF_STATUSES)}",
                               {"status": f"must be one of {', '.join(STAFF_STATUSES)}"})
    card = locked_card(db, raw_card_no)
    if card.status == status:
        return card
    if status not in TRANSITIONS[card.status]:
        raise Conflict(f"card {card.card_no} is {card.status} and cannot become {status}"
                       + _replaced_hint(db, card), {"status": f"not allowed from {card.status}"})
    card.status, card.status_reason, card.status_changed_at = status, reason, now or utcnow()
    db.flush()
    _member_changed(db, card.member_id)
    return card


def _member_changed(db, member_id):
    """A member's cards are part of the member the website syncs (lps_core.website.sync): a change
    of one moves the member's change stamp."""
    if member_id is not None:
        db.execute(update(Member).where(Member.id == member_id).values(updated_at=changed_now()))


def replace_card(db, raw_card_no, reason, *, new_card_no=None, outlet_id=None, now=None) -> Card:
    """Give the holder a new card of the same type in place of an active, frozen or lost one.

    Every account of the old card (stored value, bonus value, uses, credit) moves to the new card
    with its history; validity, credit limit and PIN are copied; the old card becomes 'replaced'
    and is refused from then on. Points belong to the member and stay where they are."""
    now = now or utcnow()
    old = locked_card(db, raw_card_no)
    if old.status not in REPLACEABLE:
        raise Conflict(f"card {old.card_no} is {old.status} and cannot be replaced" + _replaced_hint(db, old),
                       {"card_no": f"card is {old.status}"})
    card_type = old.card_type
    new_id = _pool_card(db, new_card_no, card_type) if new_card_no is not None else claim_card(db, card_type)
    db.execute(update(Card).where(Card.id == new_id).values(
        member_id=old.member_id, status="active", issued_at=now, issued_outlet_id=outlet_id, status_changed_at=now,
        status_reason=f"replaces {old.card_no}", valid_from=old.valid_from, valid_to=old.valid_to,
        credit_limit_cents=old.credit_limit_cents, pin_hash=old.pin_hash, pin_failures=0, pin_locked_until=None))
    db.execute(update(Account).where(Account.card_id == old.id).values(card_id=new_id))
    old.status, old.status_reason, old.status_changed_at, old.replaced_by_id = "replaced", reason, now, new_id
    db.flush()
    _member_changed(db, old.member_id)
    return db.get(Card, new_id)


def set_pin(db, raw_card_no, pin, *, old_pin=None, reset=False, now=None) -> Card:
    """Set or change a card's PIN (`pin` already checked by its schema). Changing a PIN needs the
    old one, checked like any PIN (wrong ones count towards the lock-out); a staff `reset` needs
    no old PIN and lifts the lock-out."""
    card = locked_card(db, raw_card_no)
    if card.status not in ("active", "frozen"):
        raise Conflict(f"card {card.card_no} is {card.status}: its PIN cannot be changed" + _replaced_hint(db, card),
                       {"card_no": f"card is {card.status}"})
    ensure_usable(card, now or utcnow(), "pin")
    if not reset and card.pin_hash is not None:
        if old_pin is None:
            raise Unprocessable("old_pin is required to change a PIN (or a staff reset)", {"old_pin": "is required"})
        verify_pin(db, card, old_pin, field="old_pin", now=now)
    card.pin_hash, card.pin_failures, card.pin_locked_until = hash_pin(pin), 0, None
    db.flush()
    return card


def renew_card(db, raw_card_no, *, valid_to=None, days=None, now=None) -> Card:
    """Extend a card's validity to `valid_to`, or by `days` from its current end (or from now, if it
    has already ended or never had one). Never shortens, and never goes past the card type's end."""
    now = now or utcnow()
    card = locked_card(db, raw_card_no)
    if card.status in ("cancelled", "replaced", "unissued"):
        raise Conflict(f"card {card.card_no} is {card.status} and cannot be renewed" + _replaced_hint(db, card),
                       {"card_no": f"card is {card.status}"})
    current = as_utc(card.valid_to) if card.valid_to else None
    field = "valid_to" if valid_to is not None else "days"
    if valid_to is None:
        valid_to = max(current, now) + timedelta(days=days) if current else now + timedelta(days=days)
    if valid_to <= now or (current and valid_to <= current):
        after = isoformat(max(current, now)) if current else isoformat(now)
        raise Unprocessable(f"{field} must extend the card beyond {after}", {field: f"must extend beyond {after}"})
    type_end = card.card_type.valid_to
    if type_end is not None and valid_to > as_utc(type_end):
        raise Unprocessable(f"card type {card.card_type.code} ends on {isoformat(type_end)}: a card cannot outlive it",
                            {field: f"goes past the card type's end, {isoformat(type_end)}"})
    card.valid_to = valid_to
    db.flush()
    return card


def _pool_card(db, raw_card_no, card_type) -> int:
    """The id of the named unissued pool card, which must be of `card_type`."""
    card_no = normalize_card_no(raw_card_no, "card_no")
    row = db.execute(select(Card.id, Card.status, Card.card_type_id).where(Card.card_no == card_no)
                     .with_for_update()).one_or_none()
    if row is None:
        raise Unprocessable(f"card {card_no} is not known", {"card_no": "no such card"})
    if row.status != "unissued":
        raise Conflict(f"card {card_no} is {row.status}, not a card from the pool", {"card_no": f"card is {row.status}"})
    if row.card_type_id != card_type.id:
        raise Unprocessable(f"card {card_no} is not a {card_type.code} card", {"card_no": f"not a {card_type.code} card"})
    return row.id


def _replaced_hint(db, card) -> str:
    if card.replaced_by_id is None:
        return ""
    return f": it was replaced by {db.scalar(select(Card.card_no).where(Card.id == card.replaced_by_id))}"
