"""Card PINs: hashing, checking, and the lock-out after repeated wrong PINs.

A wrong PIN makes the request fail, and the request's transaction is then aborted (a cashier's
whole settlement is rolled back). The failure is therefore counted after the abort, in a short
transaction of its own, so that guessing a PIN costs tries whatever the caller does."""
import logging
from datetime import timedelta

import transaction
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, update
from sqlalchemy.exc import SQLAlchemyError

from lps_core.cards.models import Card
from lps_core.errors import Forbidden, Unprocessable
from lps_core.timeutil import as_utc, isoformat, utcnow

MAX_PIN_FAILURES = 5  # consecutive wrong PINs before the card is locked
PIN_LOCKOUT = timedelta(minutes=30)
_hasher = PasswordHasher()
log = logging.getLogger(__name__)
_NOT_A_PIN = object()  # what an undecodable PIN block checks as: it matches no hash


def hash_pin(pin: str) -> str:
    return _hasher.hash(pin)


def pin_needed(card, card_type) -> bool:
    """Whether using the card asks for its PIN: the type requires one, the card is an anonymous
    bearer card, or the holder chose to set one."""
    return bool(card_type.pin_required or card_type.anonymous or card.pin_hash)


def verify_pin(db, card, pin, *, field="pin", now=None) -> None:
    """Check `pin` against the card (a Card row) when the card needs a PIN; raise when it may not
    be used. Call inside the request's transaction (transaction.manager): a wrong PIN is counted
    once that transaction ends, and the MAX_PIN_FAILURES-th consecutive one locks the card for
    PIN_LOCKOUT. A right PIN clears the count."""
    now = now or utcnow()
    if not pin_needed(card, card.card_type):
        return
    if pin is None or pin == "":
        raise Unprocessable(f"{field} is required for this card", {field: "is required for this card"})
    if card.pin_locked_until is not None and as_utc(card.pin_locked_until) > now:
        until = isoformat(card.pin_locked_until)
        raise Forbidden(f"the card is locked after {MAX_PIN_FAILURES} wrong PINs until {until}",
                        {field: f"card locked until {until}"})
    if card.pin_hash is None:
        raise Forbidden("no PIN has been set for this card: set one at the desk first", {field: "no PIN set for this card"})
    if _matches(card.pin_hash, pin):
        if card.pin_failures or card.pin_locked_until is not None:
            db.execute(update(Card).where(Card.id == card.id).values(pin_failures=0, pin_locked_until=None))
        return
    _record_failure_when_done(db.get_bind(), card.id, now)
    failures = (card.pin_failures or 0) + 1
    if failures >= MAX_PIN_FAILURES:
        until = isoformat(now + PIN_LOCKOUT)
        raise Forbidden(f"wrong PIN: the card is locked until {until}", {field: f"wrong PIN, card locked until {until}"})
    left = MAX_PIN_FAILURES - failures
    raise Forbidden(f"wrong PIN, {left} {'try' if left == 1 else 'tries'} left",
                    {field: f"wrong PIN, {left} {'try' if left == 1 else 'tries'} left"})


def verify_pin_block(db, card, pin_block, *, field="pin_block", now=None) -> None:
    """verify_pin for a PIN typed on a PIN pad: `pin_block` is the contract.PinBlock the pad gave
    (None when none was entered). A block that does not decode for this card (made for another
    card, or damaged) counts as a wrong PIN, so it costs a try like a wrong PIN typed in. The PIN
    decoded from the block lives only for the check and is never logged."""
    try:
        pin = pin_block.pin_for(card.card_no) if pin_block is not None else None
    except ValueError:
        pin = _NOT_A_PIN
    verify_pin(db, card, pin, field=field, now=now)


def _matches(pin_hash, pin) -> bool:
    if not isinstance(pin, str):
        return False
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def _record_failure_when_done(engine, card_id, now):
    """Count the failure once the current transaction ends, whether it is aborted (the usual case)
    or committed, on a fresh connection: on SQLite the request's write lock is gone by then."""
    recorded = []

    def record(*_status):
        if recorded:
            return
        recorded.append(True)
        failures = Card.pin_failures + 1
        statement = update(Card).where(Card.id == card_id).values(
            pin_failures=failures,
            pin_locked_until=case((failures >= MAX_PIN_FAILURES, now + PIN_LOCKOUT), else_=Card.pin_locked_until),
        )
        try:
            with engine.begin() as connection:
                connection.execute(statement)
        except SQLAlchemyError:
            log.exception("could not record a wrong PIN for card id %s", card_id)

    current = transaction.get()
    current.addAfterAbortHook(record)
    current.addAfterCommitHook(record)
