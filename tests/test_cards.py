"""Card issuance at approval: from the pre-generated pool, or a number generated on the spot."""
import pytest
from sqlalchemy import select

from lps_core.cards.luhn import luhn_valid
from lps_core.cards.models import Card
from lps_core.cards.services import generate_pool, normalize_card_no
from lps_core.errors import Conflict, ValidationFailed
from lps_core.members.services import Enrolment, approve_member, enrol_member


def pending_member(db, name="M"):
    return enrol_member(db, Enrolment(name=name, channel="web", email=f"{name}@example.com"))


def test_approval_takes_the_oldest_pool_card(seed, db):
    pool = generate_pool(db, 3)
    assert approve_member(db, pending_member(db, "a")) == pool[0]
    assert approve_member(db, pending_member(db, "b")) == pool[1]
    assert db.scalar(select(Card.status).where(Card.card_no == pool[2])) == "unissued"


def test_pool_only_issuance_refuses_when_the_pool_is_empty(seed, db):
    with pytest.raises(Conflict, match="the pool of standard cards is empty"):
        approve_member(db, pending_member(db), issuance="pool")


def test_generated_numbers_follow_the_card_type_prefix_and_never_repeat(seed, db):
    numbers = {approve_member(db, pending_member(db, f"m{n}"), issuance="generate") for n in range(5)}
    numbers |= set(generate_pool(db, 5))
    assert len(numbers) == 10
    assert all(n.startswith("8800") and len(n) == 16 and luhn_valid(n) for n in numbers)


def test_pool_then_generate_falls_back_to_a_new_number(seed, db):
    [pooled] = generate_pool(db, 1)
    assert approve_member(db, pending_member(db, "a")) == pooled
    assert approve_member(db, pending_member(db, "b")) != pooled


def test_approval_of_an_unknown_card_type_is_refused(seed, db):
    from lps_core.errors import Unprocessable

    with pytest.raises(Unprocessable, match="card type 'gold-card' does not exist"):
        approve_member(db, pending_member(db), card_type_code="gold-card")


@pytest.mark.parametrize("typed, expected", [("8800 0000 0000 0013", "8800000000000013"),
                                             ("8800-0000-0000-0013", "8800000000000013")])
def test_card_numbers_are_typed_as_printed(typed, expected):
    assert normalize_card_no(typed) == expected


@pytest.mark.parametrize("typed, message", [("8800000000000014", "mistyped"), ("88000A", "digits"), ("", "required")])
def test_bad_card_numbers_say_why(typed, message):
    with pytest.raises(ValidationFailed, match=message):
        normalize_card_no(typed)
