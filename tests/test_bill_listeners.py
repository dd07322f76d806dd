"""The core "bill posted" and "bill refunded" events: a third party's listener sees them inside the
earning's transaction, a failing listener posts nothing, and LPS's own tier upgrade, activity and
referral bonuses run through the same hooks (blocking plugin `lps_listeners` stops them)."""
import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from lps_core.cards.models import Card
from lps_core.contract import BillPosted, BillRefunded, hookimpl
from lps_core.earning import services as earning_services
from lps_core.earning.models import Bill
from lps_core.earning.programme import Programme
from lps_core.earning.promotions import clean_promotion, save_promotion
from lps_core.earning.services import EarnRequest, OutletContext, earn_points_for_bill, reverse_bill
from lps_core.ledger.models import LedgerEntry
from lps_core.members.models import Member, MemberActivity, Tier
from lps_core.outlets.models import Outlet
from lps_core.plugins import load_plugins

SETTINGS = {"lps.rules.cache_seconds": "0"}


def outlet(seed, code="REST"):
    return OutletContext(seed.db.scalar(select(Outlet.id).where(Outlet.code == code)), code)


def earn(seed, registry, card_no, bill_no, amount_cents, occurred_at=None):
    return earn_points_for_bill(seed.db, registry, Programme.from_settings(SETTINGS), outlet(seed),
                                EarnRequest(card_no, bill_no, amount_cents, occurred_at, ()))


def member_of(seed, card_no):
    return seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))


def tier_of(seed, card_no):
    return seed.db.scalar(select(Tier.code).join(Member, Member.tier_id == Tier.id)
                          .where(Member.id == member_of(seed, card_no)))


def activity_of(seed, card_no):
    return seed.db.execute(select(func.coalesce(func.sum(MemberActivity.points), 0),
                                  func.coalesce(func.sum(MemberActivity.bills), 0))
                           .where(MemberActivity.member_id == member_of(seed, card_no))).one()


class Recorder:
    """A third party's listener: what it saw, and what the transaction held when it saw it."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def lps_on_bill_posted(self, dbsession, posted):
        stored = dbsession.execute(select(Bill.bill_no, LedgerEntry.amount)
                                   .join(LedgerEntry, LedgerEntry.id == posted.entry_id)
                                   .where(Bill.id == posted.bill_id)).one_or_none()
        self.seen.append(("bill posted", posted, stored))

    @hookimpl
    def lps_on_points_posted(self, bill):
        self.seen.append(("points posted", bill.bill_no))

    @hookimpl
    def lps_on_bill_refunded(self, dbsession, refunded):
        self.seen.append(("bill refunded", refunded))


def test_a_third_party_listener_gets_the_posted_bill_inside_the_transaction(seed):
    recorder = Recorder()
    registry = load_plugins({}, extra_plugins=[("recorder", recorder)])
    card_no = seed.member_card()
    earned = earn(seed, registry, card_no, "B1", 12345)

    (event, posted, stored), after = recorder.seen
    assert event == "bill posted" and after == ("points posted", "B1")  # before lps_on_points_posted
    assert isinstance(posted, BillPosted)
    assert (posted.bill_id, posted.bill.bill_no, posted.bill.outlet_code, posted.bill.amount_cents) == \
        (earned.id, "B1", "REST", 12345)
    assert (posted.member_id, posted.points, posted.qualifying) == (member_of(seed, card_no), 123,
                                                                      {"nights": 0, "stays": 0})
    assert stored == ("B1", 123)  # the bill and its ledger entry were already written, uncommitted

    earn(seed, registry, card_no, "B1", 12345)  # a retry replays: no second event
    assert len(recorder.seen) == 2


def test_a_listener_that_raises_posts_nothing(seed):
    class Refuses:
        @hookimpl
        def lps_on_bill_posted(self, posted):
            raise RuntimeError(f"bill {posted.bill.bill_no} refused")

    registry = load_plugins({}, extra_plugins=[("refuses", Refuses())])
    card_no = seed.member_card()
    with pytest.raises(RuntimeError, match="bill B1 refused"):
        earn(seed, registry, card_no, "B1", 5000)
    seed.db.rollback()
    assert seed.db.scalar(select(func.count()).select_from(Bill)) == 0
    assert seed.db.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "earn")) == 0
    assert activity_of(seed, card_no) == (0, 0)


def test_a_refund_is_an_event_too_and_takes_the_bill_back_from_the_activity(seed):
    recorder = Recorder()
    registry = load_plugins({}, extra_plugins=[("recorder", recorder)])
    card_no = seed.member_card()
    earned = earn(seed, registry, card_no, "B1", 10000)
    assert activity_of(seed, card_no) == (100, 1)

    reverse_bill(seed.db, registry, outlet(seed), earned.id, amount_cents=4000, refund_no="R1")
    reverse_bill(seed.db, registry, outlet(seed), earned.id, refund_no="R2")
    partial, rest = [event[1] for event in recorder.seen if event[0] == "bill refunded"]
    assert isinstance(partial, BillRefunded)
    assert (partial.refund_no, partial.amount_cents, partial.points, partial.whole) == ("R1", 4000, 40, False)
    assert (rest.refund_no, rest.amount_cents, rest.points, rest.whole) == ("R2", 6000, 60, True)
    assert rest.bill_id == earned.id and rest.member_id == member_of(seed, card_no)
    assert activity_of(seed, card_no) == (0, 0)


@pytest.fixture
def referral(seed):
    """A referral promotion at REST (100 points to the referrer) and a silver tier at 500 points."""
    now = datetime.now(timezone.utc)
    save_promotion(seed.db, clean_promotion({
        "code": "REFER", "name": "Refer a friend", "kind": "referral", "params": {"levels": [100]},
        "starts_at": (now - timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=1)).isoformat()}))
    seed.db.execute(update(Tier).where(Tier.code == "silver").values(qualification={"points": 500}))
    seed.db.commit()
    referrer = seed.member_card("Referrer")
    guest = seed.member_card("Guest")
    seed.db.execute(update(Member).where(Member.id == member_of(seed, guest))
                    .values(referred_by_id=member_of(seed, referrer)))
    seed.db.commit()
    return referrer, guest


def bonus_of(seed, card_no):
    return seed.db.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                          .where(LedgerEntry.account_id == seed.points_account(card_no), LedgerEntry.kind == "bonus"))


def test_the_core_listeners_upgrade_and_credit_referrers(seed, referral):
    referrer, guest = referral
    earn(seed, load_plugins({}), guest, "B1", 60000)
    assert tier_of(seed, guest) == "silver"
    assert bonus_of(seed, referrer) == 100
    assert activity_of(seed, guest) == (600, 1)


def test_blocking_the_core_listeners_stops_upgrades_and_referral_bonuses(seed, referral):
    """Proof that the tier upgrade and the referral bonuses run through the hook. The activity
    counters are the bill's own and still move, and a refund still takes them back."""
    referrer, guest = referral
    registry = load_plugins({"lps.plugins.disabled": "lps_listeners"})
    assert "lps_listeners" not in registry.plugin_names()
    tier_before = tier_of(seed, guest)
    earned = earn(seed, registry, guest, "B1", 60000)
    assert earned.points == 600
    assert tier_of(seed, guest) == tier_before != "silver"
    assert bonus_of(seed, referrer) == 0
    assert activity_of(seed, guest) == (600, 1)
    reverse_bill(seed.db, registry, outlet(seed), earned.id, refund_no="R1")
    assert activity_of(seed, guest) == (0, 0)


def test_a_dormant_member_who_earns_is_active_again(seed):
    card_no = seed.member_card()
    seed.db.execute(update(Member).where(Member.id == member_of(seed, card_no)).values(status="dormant"))
    seed.db.commit()
    earn(seed, load_plugins({}), card_no, "B1", 1000)
    assert seed.db.scalar(select(Member.status).where(Member.id == member_of(seed, card_no))) == "active"


def test_the_earn_path_does_not_import_tiers():
    """Earning reads tiers through ITierLookup and leaves the rest to the listeners."""
    tree = ast.parse(Path(earning_services.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not [name for name in imported if name and name.startswith("lps_core.tiers")]
