"""Card products: the discount rate that applies, validity windows, and PINs with their lock-out."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
import transaction
from sqlalchemy import select, update

from lps_core.cards.models import Card
from lps_core.cards.pins import MAX_PIN_FAILURES, hash_pin, pin_needed, verify_pin
from lps_core.cards.products import discount_rate, validity_problem
from lps_core.cards.schemas import PinChangeIn
from lps_core.db import get_session_factory
from lps_core.errors import Forbidden, Unprocessable, ValidationFailed
from lps_core.validation import validate

UTC = timezone.utc
OVERRIDES = [
    {"outlet": "SPA", "rate": "0.05"},
    {"category": "treatment", "rate": "0.10"},
    {"outlet": "SPA", "category": "treatment", "rate": "0.15"},
]


def card_type(**fields):
    values = {"discount_rate": Decimal("0.02"), "discount_overrides": OVERRIDES, "valid_from": None, "valid_to": None,
              "pin_required": False, "anonymous": False}
    return SimpleNamespace(**{**values, **fields})


@pytest.mark.parametrize("outlet, category, rate", [
    ("SPA", "treatment", "0.15"),  # outlet and category
    ("REST", "treatment", "0.10"),  # category alone
    ("SPA", "retail", "0.05"),  # outlet alone
    ("SPA", None, "0.05"),
    ("REST", "food", "0.02"),  # the type's own rate
    ("REST", None, "0.02"),
])
def test_the_most_specific_discount_wins(outlet, category, rate):
    assert discount_rate(card_type(), outlet, category) == Decimal(rate)


def test_no_overrides_gives_the_type_rate():
    assert discount_rate(card_type(discount_overrides=[]), "SPA", "treatment") == Decimal("0.02")


def test_validity_takes_the_narrower_of_card_and_type():
    card = SimpleNamespace(valid_from=datetime(2026, 1, 1, tzinfo=UTC), valid_to=datetime(2027, 1, 1, tzinfo=UTC))
    product = card_type(valid_from=datetime(2026, 12, 1, tzinfo=UTC), valid_to=datetime(2026, 12, 31, tzinfo=UTC))
    assert validity_problem(card, product, datetime(2026, 6, 1, tzinfo=UTC)) == "card is valid from 2026-12-01"
    assert validity_problem(card, product, datetime(2026, 12, 15, tzinfo=UTC)) is None
    assert validity_problem(card, product, datetime(2026, 12, 31, tzinfo=UTC)) == "card expired on 2026-12-30"


def test_open_bounds_and_naive_times_from_sqlite():
    card = SimpleNamespace(valid_from=None, valid_to=datetime(2026, 12, 1))  # SQLite hands back naive UTC
    assert validity_problem(card, card_type(), datetime(2020, 1, 1, tzinfo=UTC)) is None
    assert validity_problem(card, card_type(), datetime(2026, 12, 1, tzinfo=UTC)) == "card expired on 2026-11-30"


def test_validity_dates_in_the_programme_time_zone():
    from zoneinfo import ZoneInfo

    card = SimpleNamespace(valid_from=datetime(2026, 11, 30, 16, tzinfo=UTC), valid_to=None)  # 1 Dec in Shanghai
    message = validity_problem(card, card_type(), datetime(2026, 11, 1, tzinfo=UTC), tz=ZoneInfo("Asia/Shanghai"))
    assert message == "card is valid from 2026-12-01"


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", 1234, None, "١٢٣٤", "１２３４", " 1234", "1234\n", True])
def test_bad_pins_name_the_field(pin):
    with pytest.raises(ValidationFailed) as failure:
        validate(PinChangeIn, {"pin": pin})
    assert failure.value.fields == {"pin": "must be 4 to 6 digits"}


def test_pin_needed():
    assert not pin_needed(SimpleNamespace(pin_hash=None), card_type())
    assert pin_needed(SimpleNamespace(pin_hash="x"), card_type())
    assert pin_needed(SimpleNamespace(pin_hash=None), card_type(pin_required=True))
    assert pin_needed(SimpleNamespace(pin_hash=None), card_type(anonymous=True))


@pytest.fixture
def pin_card(seed, db):
    card_no = seed.member_card()
    db.execute(update(Card).where(Card.card_no == card_no).values(pin_hash=hash_pin("2468")))
    db.commit()
    return card_no


def check_in_a_request(engine, card_no, pin, now=None):
    """verify_pin as a request runs it: inside transaction.manager, aborted when it raises."""
    with transaction.manager:
        session = get_session_factory(engine)()
        card = session.scalar(select(Card).where(Card.card_no == card_no))
        verify_pin(session, card, pin, now=now)


def card_row(db, card_no):
    db.rollback()
    return db.scalar(select(Card).where(Card.card_no == card_no))


def test_wrong_pins_are_counted_although_the_request_rolls_back_and_lock_the_card(engine, db, pin_card):
    for left in range(MAX_PIN_FAILURES - 1, 0, -1):
        with pytest.raises(Forbidden) as failure:
            check_in_a_request(engine, pin_card, "1111")
        assert failure.value.fields == {"pin": f"wrong PIN, {left} {'try' if left == 1 else 'tries'} left"}
    assert card_row(db, pin_card).pin_failures == MAX_PIN_FAILURES - 1
    with pytest.raises(Forbidden, match="locked until"):
        check_in_a_request(engine, pin_card, "1111")
    locked = card_row(db, pin_card)
    assert locked.pin_failures == MAX_PIN_FAILURES and locked.pin_locked_until is not None
    with pytest.raises(Forbidden, match="locked .* until"):
        check_in_a_request(engine, pin_card, "2468")  # even the right PIN, while locked
    later = datetime.now(UTC) + timedelta(minutes=31)
    check_in_a_request(engine, pin_card, "2468", now=later)
    unlocked = card_row(db, pin_card)
    assert unlocked.pin_failures == 0 and unlocked.pin_locked_until is None


def test_a_right_pin_clears_earlier_failures(engine, db, pin_card):
    with pytest.raises(Forbidden):
        check_in_a_request(engine, pin_card, "1357")
    check_in_a_request(engine, pin_card, "2468")
    assert card_row(db, pin_card).pin_failures == 0


def test_a_missing_pin_is_a_field_error_and_no_pin_is_asked_when_none_is_needed(engine, db, seed, pin_card):
    with pytest.raises(Unprocessable) as failure:
        check_in_a_request(engine, pin_card, None)
    assert failure.value.fields == {"pin": "is required for this card"}
    check_in_a_request(engine, seed.member_card("No Pin"), None)
    assert card_row(db, pin_card).pin_failures == 0
