"""Paid membership: a card type sold for a fee. The sale issues a card valid for the type's months
and settles the fee with its tenders; a renewal extends it; `lps jobs memberships` reminds the
member once before it ends; a cancellation refunds the unused days pro rata to the tenders."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from lps_core.cards.membership import (
    Cancellation,
    MembershipSale,
    add_months,
    cancel_membership,
    refund_for,
    sell_membership,
)
from lps_core.cards.membership_jobs import remind_memberships
from lps_core.cards.models import Card, CardType, MembershipPeriod
from lps_core.cashier.models import Settlement, SettlementRefund, SettlementTender
from lps_core.cashier.requests import Tender
from lps_core.db import get_session_factory, run_in_transaction
from lps_core.earning.programme import Programme
from lps_core.earning.services import OutletContext
from lps_core.messages.models import OutboxMessage
from lps_core.outlets.models import Outlet
from lps_core.testing import TEST_SETTINGS
from lps_core.timeutil import as_utc, utcnow

SHANGHAI = {"lps.timezone": "Asia/Shanghai"}


@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def club(seed):
    """Card type `club`: 120.00 for 12 months, 10% off, reminded 14 days before it ends."""
    seed.db.execute(insert(CardType).values(
        code="club", name="Gold Club", prefix="8900", discount_rate=Decimal("0.1"), membership_fee_cents=12000,
        membership_months=12, membership_reminder_days=14))
    seed.db.commit()


def member_of(seed) -> int:
    card_no = seed.member_card("Wang Fang")
    return seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))


def sell(testapp, auth, member_id, sale_no="M1", tenders=None, status=201):
    return testapp.post_json("/api/v1/memberships", {
        "member_id": member_id, "card_type": "club", "sale_no": sale_no,
        "tenders": tenders or [{"kind": "cash", "amount": "100.00"}, {"kind": "bank_card", "amount": "20.00"}]},
        headers=auth, status=status).json


def fresh(seed):
    seed.db.commit()  # a new snapshot: what the app committed since
    return seed.db


def test_a_sale_issues_the_card_for_its_months_and_settles_the_fee_with_its_tenders(testapp, auth, seed, club):
    member_id = member_of(seed)
    before = utcnow()
    doc = sell(testapp, auth, member_id)
    assert doc["card_type"] == "club" and doc["status"] == "active" and doc["member_id"] == member_id
    [period] = doc["periods"]
    assert (period["kind"], period["status"], period["fee"], period["refund"]) == ("sale", "paid", "120.00", "0.00")
    db = fresh(seed)
    settlement = db.get(Settlement, period["settlement_id"])
    assert (settlement.gross_cents, settlement.discount_cents, settlement.charged_cents, settlement.points) == \
        (12000, 0, 12000, 0)  # a fee: no discount (the card's 10% is for what the member buys), no points
    assert settlement.bill_no == "membership:M1" and settlement.items[0]["category"] == "membership"
    tenders = db.execute(select(SettlementTender.kind, SettlementTender.amount_cents)
                         .where(SettlementTender.settlement_id == settlement.id).order_by(SettlementTender.position)).all()
    assert [tuple(row) for row in tenders] == [("cash", 10000), ("bank_card", 2000)]
    card = db.scalar(select(Card).where(Card.card_no == doc["card_no"]))
    assert card.card_type.code == "club" and card.member_id == member_id and settlement.card_id == card.id
    tz = Programme.from_settings({}).timezone
    assert before <= as_utc(card.valid_from) and as_utc(card.valid_to) == add_months(card.valid_from, 12, tz)

    replay = sell(testapp, auth, member_id, status=200)
    assert replay["replayed"] and replay["card_no"] == doc["card_no"]
    other = sell(testapp, auth, member_id, tenders=[{"kind": "cash", "amount": "120.00"}], status=409)
    assert other["fields"] == {"sale_no": "already used with other content"}
    again = sell(testapp, auth, member_id, sale_no="M2", status=409)
    assert "renew it" in again["fields"]["card_type"]


def test_a_renewal_extends_the_membership_from_its_end(testapp, auth, seed, club):
    doc = sell(testapp, auth, member_of(seed))
    end = datetime.fromisoformat(doc["valid_to"].replace("Z", "+00:00"))
    renewed = testapp.post_json(f"/api/v1/cards/{doc['card_no']}/membership/renewals", {
        "sale_no": "R1", "tenders": [{"kind": "cash", "amount": "120.00"}]}, headers=auth, status=201).json
    [_, renewal] = renewed["periods"]
    tz = Programme.from_settings({}).timezone
    assert renewal["kind"] == "renewal" and renewal["starts_at"] == doc["valid_to"]
    assert renewed["valid_to"] == renewal["ends_at"]
    assert datetime.fromisoformat(renewal["ends_at"].replace("Z", "+00:00")) == add_months(end, 12, tz)
    assert fresh(seed).get(Settlement, renewal["settlement_id"]).charged_cents == 12000


def test_a_cancellation_refunds_the_unused_days_pro_rata_to_the_tenders(seed, club, plugins):
    db = seed.db
    member_id = member_of(seed)
    programme = Programme.from_settings(SHANGHAI)
    rest = db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    outlet = OutletContext(rest, "REST")
    sold_at = utcnow() - timedelta(days=100)
    sale = MembershipSale("M1", (Tender("cash", 9000), Tender("bank_card", 3000)), card_type="club")
    period = sell_membership(db, plugins, programme, outlet, member_id, sale, now=sold_at)
    card_no = db.get(Card, period.card_id).card_no
    cancelled_at = utcnow()
    cancelled = cancel_membership(db, plugins, programme, card_no, reason="moving abroad", now=cancelled_at)
    tz = programme.timezone
    first, end = as_utc(sold_at).astimezone(tz).date(), as_utc(period.ends_at).astimezone(tz).date()
    days = (end - first).days
    used = (cancelled_at.astimezone(tz).date() - first).days + 1
    expected = int((Decimal(12000) * (days - used) / days).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert isinstance(cancelled, Cancellation) and cancelled.refund_cents == expected
    refund = db.get(SettlementRefund, period.settlement_refund_id)
    assert refund.settlement_id == period.settlement_id and refund.amount_cents == expected
    assert sum(t["amount_cents"] for t in refund.tenders) == expected
    assert [t["kind"] for t in refund.tenders] == ["cash", "bank_card"]
    card = db.get(Card, period.card_id)
    assert (card.status, period.status, period.refund_cents) == ("cancelled", "cancelled", expected)
    again = cancel_membership(db, plugins, programme, card_no, reason="moving abroad")
    assert again.replayed and again.refund_cents == expected
    assert db.scalar(select(SettlementRefund.id).where(SettlementRefund.id != refund.id)) is None


def test_the_refund_rule_by_days():
    tz = timezone(timedelta(hours=8))
    start, end = datetime(2026, 1, 1, tzinfo=tz), datetime(2027, 1, 1, tzinfo=tz)
    assert refund_for(12000, start, end, datetime(2026, 3, 1, 10, tzinfo=tz), tz) == 10027  # 305 of 365 days left
    assert refund_for(12000, start, end, datetime(2026, 1, 1, 10, tzinfo=tz), tz) == 11967  # the first day is used
    assert refund_for(12000, start, end, datetime(2026, 12, 31, 23, tzinfo=tz), tz) == 0
    assert refund_for(12000, start, end, datetime(2025, 12, 31, tzinfo=tz), tz) == 12000  # not begun: all of it
    assert add_months(datetime(2026, 1, 31, 12, tzinfo=timezone.utc), 1, tz) == datetime(2026, 2, 28, 12,
                                                                                          tzinfo=timezone.utc)


def test_a_cancellation_over_the_api_answers_what_it_refunded(testapp, auth, seed, club):
    doc = sell(testapp, auth, member_of(seed))
    url = f"/api/v1/cards/{doc['card_no']}/membership/cancel"
    cancelled = testapp.post_json(url, {"reason": "changed their mind"}, headers=auth, status=200).json
    assert cancelled["status"] == "cancelled" and cancelled["refunded"] == "119.67"  # the day of sale is used
    assert cancelled["periods"][0]["refund"] == "119.67"
    assert testapp.post_json(url, {"reason": "again"}, headers=auth, status=200).json["replayed"]
    renew = testapp.post_json(f"/api/v1/cards/{doc['card_no']}/membership/renewals", {
        "sale_no": "R1", "tenders": [{"kind": "cash", "amount": "120.00"}]}, headers=auth, status=409).json
    assert renew["fields"] == {"card_no": "card is cancelled"}


def test_bad_input_names_the_field(testapp, auth, seed, club):
    member_id = member_of(seed)
    missing = testapp.post_json("/api/v1/memberships", {"card_type": "club", "sale_no": "M1",
                                                        "tenders": [{"kind": "cash", "amount": "120.00"}]},
                                headers=auth, status=400).json
    assert "member_id" in missing["fields"]
    short = sell(testapp, auth, member_id, tenders=[{"kind": "cash", "amount": "100.00"}], status=422)
    assert short["fields"] == {"tenders": "must add up to 120.00"}
    plain = testapp.post_json("/api/v1/memberships", {"member_id": member_id, "card_type": "standard", "sale_no": "M3",
                                                      "tenders": [{"kind": "cash", "amount": "1.00"}]},
                              headers=auth, status=422).json
    assert plain["fields"] == {"card_type": "not a paid membership"}
    nobody = testapp.post_json("/api/v1/memberships", {"member_id": 99999, "card_type": "club", "sale_no": "M4",
                                                       "tenders": [{"kind": "cash", "amount": "120.00"}]},
                               headers=auth, status=404).json
    assert nobody["fields"] == {"member_id": "no such member"}
    fee = testapp.put_json("/api/v1/card-types/standard", {"membership_fee": "99.00"}, headers=auth, status=422).json
    assert fee["fields"] == {"membership_months": "is needed with membership_fee"}
    assert fresh(seed).scalar(select(MembershipPeriod.id)) is None
    assert fresh(seed).scalar(select(Settlement.id)) is None


class JobEnvironment:
    """What `lps jobs memberships` gets from the CLI, on the test database."""

    def __init__(self, engine, plugins):
        self.settings = {**SHANGHAI, **TEST_SETTINGS}
        self.session_factory = get_session_factory(engine)
        self.plugins = plugins

    def transaction(self, work):
        return run_in_transaction(self.session_factory, work)


def test_the_reminder_is_queued_once_before_the_end(engine, plugins, seed, club):
    db = seed.db
    member_id = member_of(seed)
    programme = Programme.from_settings(SHANGHAI)
    outlet = OutletContext(db.scalar(select(Outlet.id).where(Outlet.code == "REST")), "REST")
    sold_at = utcnow() - timedelta(days=300)
    period = sell_membership(db, plugins, programme, outlet, member_id,
                             MembershipSale("M1", (Tender("cash", 12000),), card_type="club"), now=sold_at)
    db.commit()
    env = JobEnvironment(engine, plugins)
    ends_at = as_utc(period.ends_at)
    early = remind_memberships(env, now=ends_at - timedelta(days=20))
    assert (early.members, early.messages) == (0, 0)
    dry = remind_memberships(env, now=ends_at - timedelta(days=10), dry_run=True)
    assert dry.members == 1
    assert fresh(seed).scalar(select(OutboxMessage.id).where(OutboxMessage.event == "membership_expiring")) is None
    first = remind_memberships(env, now=ends_at - timedelta(days=10))
    assert first.members == 1 and first.messages >= 1
    second = remind_memberships(env, now=ends_at - timedelta(days=9))
    assert (second.members, second.messages) == (0, 0)
    messages = fresh(seed).scalars(select(OutboxMessage).where(OutboxMessage.event == "membership_expiring")).all()
    assert len(messages) == first.messages and {m.member_id for m in messages} == {member_id}
    assert all("Gold Club" in m.subject or "Gold Club" in m.body for m in messages)
    assert fresh(seed).scalar(select(MembershipPeriod.reminded_at).where(MembershipPeriod.id == period.id))
    ended = remind_memberships(env, now=ends_at + timedelta(days=1))
    assert ended.members == 0
