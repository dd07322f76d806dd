"""Coupons: types, issuing (idempotent, set-based, unique unguessable codes), and the rules a coupon
is taken by."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lps_core.coupons import codes
from lps_core.coupons.models import Coupon
from lps_core.coupons.services import TypeSpec, issue_coupons, save_type, valid_coupons_of
from lps_core.errors import Unprocessable
from lps_core.members.models import Member
from lps_core.cards.models import Card
from lps_core.timeutil import utcnow


def member_ids(seed, db, count):
    card_nos = [seed.member_card(name=f"Member {n}") for n in range(count)]
    return list(db.scalars(select(Card.member_id).where(Card.card_no.in_(card_nos)).order_by(Card.member_id)))


def test_issuing_is_idempotent_per_source_and_codes_are_unique(db, seed):
    now = utcnow()
    save_type(db, TypeSpec("TEN", "10 off", "amount", value_cents=1000, valid_days=30))
    ids = member_ids(seed, db, 3)
    first = issue_coupons(db, "TEN", ids[:2], source="campaign", source_ref="c1", now=now)
    again = issue_coupons(db, "TEN", ids, source="campaign", source_ref="c1", now=now)
    db.commit()
    assert [c.member_id for c in first] == ids[:2]
    assert [c.member_id for c in again] == ids
    assert {c.code for c in first} <= {c.code for c in again}
    assert db.scalar(select(func.count()).select_from(Coupon)) == 3
    other = issue_coupons(db, "TEN", ids, source="campaign", source_ref="c2", now=now)
    assert len({c.code for c in again + other}) == 6
    assert all(codes.is_well_formed(c.code) and not set(c.code) & set("01ILO") for c in again + other)
    assert all(c.valid_to - c.valid_from <= timedelta(days=31) for c in other)
    assert [c.member_id for c, _ in valid_coupons_of(db, ids[0], utcnow())] == [ids[0], ids[0]]


def test_a_mistyped_code_fails_its_check_character():
    code = codes.new_code()
    wrong = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]
    assert codes.is_well_formed(code) and not codes.is_well_formed(wrong)
    swapped = code[:2] + code[3] + code[2] + code[4:]
    assert code[2] == code[3] or not codes.is_well_formed(swapped)


def test_unknown_members_and_expired_types_are_refused_naming_the_field(db, seed):
    save_type(db, TypeSpec("OLD", "old", "percent", percent=10, valid_from=utcnow().date() - timedelta(days=9),
                           valid_to=utcnow().date() - timedelta(days=2)))
    save_type(db, TypeSpec("TEN", "10 off", "amount", value_cents=1000, valid_days=3))
    with pytest.raises(Unprocessable) as refused:
        issue_coupons(db, "OLD", member_ids(seed, db, 1), source="staff", source_ref="", now=utcnow())
    assert "coupon_type" in refused.value.fields
    with pytest.raises(Unprocessable) as refused:
        issue_coupons(db, "TEN", [db.scalar(select(func.max(Member.id))) + 1], source="staff", source_ref="",
                      now=utcnow())
    assert "member_ids" in refused.value.fields
