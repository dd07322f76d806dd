"""Paid membership at the desk: the member page's memberships screen sells, renews and cancels
after the operator confirms, with the problems beside the form; the card type screen takes the
co-branded partner, the number range and the membership's fee, months and reminder."""
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from lps_core.cards.models import Card, CardType, MembershipPeriod
from lps_core.cashier.models import Settlement
from lps_core.outlets.models import Property
from lps_core.testing import audited, csrf_of, sign_in_as


@pytest.fixture
def club(seed):
    seed.db.execute(insert(CardType).values(
        code="club", name="Gold Club", prefix="8900", membership_fee_cents=12000, membership_months=12))
    seed.db.commit()


@pytest.fixture
def desk(testapp, seed):
    return sign_in_as(testapp, seed, "frontdesk", "desk-pass-123", ["administrator"], ["all"])


def member_id_of(seed):
    card_no = seed.member_card("Wang Fang")
    return seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))


def fresh(seed):
    seed.db.commit()
    return seed.db


def test_sell_renew_and_cancel_a_membership_at_the_desk(testapp, seed, club, desk):
    member_id = member_id_of(seed)
    assert f"/members/{member_id}/membership" in testapp.get(f"/members/{member_id}").text
    page = testapp.get(f"/members/{member_id}/membership")
    assert page.html.select_one("#sell-membership") is not None
    form = {"csrf_token": csrf_of(page), "card_type": "club", "outlet": "REST", "tender": "cash", "amount": "120.00",
            "sale_no": "MS-1"}
    unconfirmed = testapp.post(f"/members/{member_id}/membership", form, status=400)
    assert "tick the box to confirm" in unconfirmed.text
    assert fresh(seed).scalar(select(MembershipPeriod.id)) is None
    short = testapp.post(f"/members/{member_id}/membership", {**form, "confirm": "1", "amount": "100.00"}, status=422)
    assert "must add up to 120.00" in short.text
    testapp.post(f"/members/{member_id}/membership", {**form, "confirm": "1", "amount": ""}, status=303)  # the fee
    db = fresh(seed)
    period = db.scalar(select(MembershipPeriod))
    card = db.get(Card, period.card_id)
    assert db.get(Settlement, period.settlement_id).charged_cents == 12000
    assert audited(seed.db, "membership.sale")[-1].after["fee"] == "120.00"

    page = testapp.get(f"/members/{member_id}/membership")
    assert card.card_no in page.text
    testapp.post(f"/members/{member_id}/membership", {
        "csrf_token": csrf_of(page), "card_no": card.card_no, "outlet": "REST", "tender": "cash", "amount": "120.00",
        "sale_no": "MS-2", "confirm": "1"}, status=303)
    assert fresh(seed).scalar(select(MembershipPeriod.kind).where(MembershipPeriod.sale_no == "MS-2")) == "renewal"

    page = testapp.get(f"/members/{member_id}/membership")
    url = f"/members/{member_id}/membership/{card.card_no}/cancel"
    testapp.post(url, {"csrf_token": csrf_of(page), "reason": "moving"}, status=400)
    done = testapp.post(url, {"csrf_token": csrf_of(page), "reason": "moving", "confirm": "1"}, status=303).follow()
    assert "refunded" in done.text
    db = fresh(seed)
    assert db.scalar(select(Card.status).where(Card.id == card.id)) == "cancelled"
    refunds = db.scalars(select(MembershipPeriod.refund_cents).order_by(MembershipPeriod.id)).all()
    assert refunds[1] == 12000 and 0 < refunds[0] < 12000  # the renewal had not begun: all of it back
    testapp.post(url, {"reason": "moving", "confirm": "1"}, status=400)  # no CSRF token


def test_the_card_type_screen_takes_partner_range_and_membership(testapp, seed, desk):
    seed.db.execute(insert(Property).values(code="BAKERY", name="Partner Bakery", kind="partner"))
    seed.db.commit()
    page = testapp.get("/config/card-types/new")
    assert [o["value"] for o in page.html.select("#partner option")] == ["", "BAKERY"]
    form = {"csrf_token": csrf_of(page), "code": "bakery", "name": "Bakery", "prefix": "62", "points_multiplier": "2",
            "discount_rate": "0.1", "credit_warning_ratio": "0.8", "active": "1", "partner": "BAKERY",
            "serial_from": "5000", "serial_to": "5999", "membership_fee": "99.00", "membership_months": "12",
            "membership_reminder_days": "14"}
    testapp.post("/config/card-types/new", form, status=303)
    saved = fresh(seed).scalar(select(CardType).where(CardType.code == "bakery"))
    assert (saved.serial_from, saved.serial_to, saved.membership_fee_cents, saved.membership_months,
            saved.membership_reminder_days) == (5000, 5999, 9900, 12, 14)
    assert saved.discount_rate == Decimal("0.1") and saved.partner_property_id is not None
    page = testapp.get("/config/card-types/bakery")
    assert page.html.select_one("#partner option[selected]")["value"] == "BAKERY"
    assert page.html.select_one("#membership_fee")["value"] == "99.00"
    bad = testapp.post("/config/card-types/bakery", {**form, "serial_to": "", "membership_months": ""}, status=400)
    assert bad.html.select_one("#serial_to")["aria-invalid"] == "true"
    assert "give both serial_from and serial_to, or neither" in bad.text
    assert bad.html.select_one("#membership_months")["aria-invalid"] == "true"
    assert fresh(seed).scalar(select(CardType.serial_to).where(CardType.code == "bakery")) == 5999
