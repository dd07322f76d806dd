"""Earning points for a bill and taking them back when the bill is refunded.

A bill is claimed by inserting its row with ON CONFLICT DO NOTHING on (outlet, bill no.): of twenty
simultaneous posts of one bill exactly one inserts and posts; the others wait for it to commit and
then replay its result, or get a Conflict when their content differs.
"""
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select, update

from lps_core.cards.lifecycle import card_for_purpose
from lps_core.components import ITierLookup
from lps_core.contract import BillInput, BillLine, BillPosted, BillRefunded
from lps_core.db.idempotency import replay_or_conflict
from lps_core.earning.facts import MemberFacts
from lps_core.db.stamps import changed_now
from lps_core.earning.models import Bill, BillRefund, PromotionAward
from lps_core.earning.pipeline import MemberContext, compute_points
from lps_core.earning.promotions import record_awards
from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.members.activity import bill_activity, record_activity
from lps_core.money import format_cents
from lps_core.timeutil import isoformat, utcnow


BILLS = Bill.__table__
BILL_KEY = ("outlet_id", "bill_no")


@dataclass(frozen=True)
class OutletContext:
    """The outlet a request acts for, as the API key resolved it, and that key (None at the desk):
    the postings made for it record the key."""

    id: int
    code: str
    api_key_id: int | None = None


@dataclass(frozen=True)
class EarnRequest:
    card_no: str
    bill_no: str
    amount_cents: int
    occurred_at: datetime | None
    items: tuple[BillLine, ...]

    def fingerprint(self):
        return ledger.fingerprint_of({
            "card_no": self.card_no, "amount": self.amount_cents,
            "occurred_at": isoformat(self.occurred_at) if self.occurred_at else None,
            "items": [[i.sku, i.category, str(i.qty), i.amount_cents] for i in self.items],
        })


@dataclass(frozen=True)
class EarnedBill:
    id: int
    outlet_id: int
    bill_no: str
    member_id: int
    amount_cents: int
    points: int
    points_balance: int
    breakdown: list
    replayed: bool = False


@dataclass(frozen=True)
class Refund:
    """A refund of a bill; `outlet_id`, `bill_no` and `member_id` are those of the bill refunded."""

    id: int
    bill_id: int
    outlet_id: int
    bill_no: str
    member_id: int | None
    refund_no: str
    amount_cents: int
    points: int
    points_balance: int
    replayed: bool = False


def earn_points_for_bill(db, plugins, programme, outlet: OutletContext, request: EarnRequest) -> EarnedBill:
    fingerprint = request.fingerprint()
    now = utcnow()
    occurred_at = request.occurred_at or now
    try:
        programme.limits.check_bill_amount(request.amount_cents, outlet.code)
        programme.limits.check_occurred_at(request.occurred_at, now=now)
        card = card_for_purpose(db, request.card_no, occurred_at, "earn", tz=programme.timezone)
    except Unprocessable:
        # A retry of a bill posted before the card was frozen (or expired, or before the bill grew
        # too old to post) still gets its first result.
        replay = _replay_bill(db, outlet, request.bill_no, fingerprint)
        if replay is None:
            raise
        return replay
    if request.occurred_at is not None:
        card = card_at_tier_of(programme.tiers, db, card, occurred_at)
    rule = programme.rules.rule_at(db, outlet.id, occurred_at)

    def points_at_tier_of(card):
        bill = BillInput(outlet.code, request.bill_no, request.amount_cents, occurred_at, request.items,
                         card.tier_code, card.card_type_code)
        return bill, compute_points(plugins, rule, bill, member_context(card),
                                    programme.promotions.on_at(db, plugins, outlet.id),
                                    MemberFacts(db, programme, card.member_id), programme.timezone,
                                    ceiling=programme.limits.max_points_at(outlet.code), rounding=programme.rounding)

    bill, computed = points_at_tier_of(card)
    if card.member_id is not None and programme.tiers.bill_earns_at_new_tier:
        card, bill, computed = _at_the_tier_the_bill_reaches(db, plugins, programme, card, bill, computed,
                                                             points_at_tier_of)
    expires_at = programme.expiry.lot_expires_at(occurred_at)
    if computed.points > 0 and expires_at <= now:
        _drop_expired_points(computed, occurred_at, expires_at, programme.timezone)
    nights, stays = int(computed.qualifying.get("nights", 0)), int(computed.qualifying.get("stays", 0))

    activity = None if card.member_id is None else bill_activity(
        card.member_id, occurred_at, programme.tiers.window(occurred_at), points=computed.points,
        spend_cents=request.amount_cents, nights=nights, stays=stays)
    bill_id, posting, in_window = ledger.claim_and_credit(db, BILLS, BILL_KEY, {
        "outlet_id": outlet.id, "bill_no": request.bill_no, "card_id": card.card_id, "member_id": card.member_id,
        "amount_cents": request.amount_cents, "items": [_line_json(i) for i in request.items] or None,
        "occurred_at": occurred_at, "fingerprint": fingerprint, "points": computed.points, "rule_id": rule.id,
        "qualifying_nights": nights, "qualifying_stays": stays, "api_key_id": outlet.api_key_id,
        "created_at": utcnow(),
    }, card.points_account_id, computed.points, account_kind=POINTS, kind=ledger.EARN,
        business_key=f"earn:{outlet.id}:{request.bill_no}", fingerprint=fingerprint,
        occurred_at=occurred_at, expires_at=expires_at, outlet_id=outlet.id, breakdown=computed.breakdown,
        rider=activity)
    if bill_id is None:
        return _replay_bill(db, outlet, request.bill_no, fingerprint)  # another request claimed it first
    record_awards(db, [{"promotion_id": promotion.id, "member_id": card.member_id, "bill_id": bill_id,
                        "entry_id": posting.entry_id, "points": points, "occurred_at": occurred_at}
                       for promotion, points in computed.awards])
    plugins.hook.lps_on_bill_posted(dbsession=db, posted=BillPosted(
        bill_id, outlet.id, bill, card.member_id, computed.points, posting.entry_id,
        {"nights": nights, "stays": stays}, card.referred_by_id, card.member_status, programme, plugins, in_window,
        card.card_id, card.partner_id, computed.breakdown))
    earned = EarnedBill(bill_id, outlet.id, request.bill_no, card.member_id, request.amount_cents,
                        computed.points, posting.balance_after, computed.breakdown)
    plugins.hook.lps_on_points_posted(dbsession=db, posting=posting, bill=earned)
    return earned


def _at_the_tier_the_bill_reaches(db, plugins, programme, card, bill, computed, points_at_tier_of):
    """lps.tiers.upgrade_bill_earns_at = new: a bill that lifts the member to a higher tier earns at
    that tier (the upgrade itself still happens after the bill is recorded, by the lps_on_bill_posted
    listener). Its points at the higher tier may lift it further still, so this repeats until the
    tier holds."""
    tiers = programme.tiers.all(db)
    for _ in tiers:
        reached = programme.tiers.reached_by_bill(db, plugins, card.member_id, bill.occurred_at, tiers, {
            "points": computed.points, "spend_cents": bill.amount_cents,
            "nights": int(computed.qualifying.get("nights", 0)), "stays": int(computed.qualifying.get("stays", 0))})
        if reached is None or reached.code == card.tier_code:
            break
        card = replace(card, tier_code=reached.code, tier_multiplier=reached.multiplier)
        bill, computed = points_at_tier_of(card)
    return card, bill, computed


def card_at_tier_of(tiers: ITierLookup, db, card, moment):
    """The card as it earns at `moment`: with the tier its member held then, if it has changed since."""
    if card.member_id is None:
        return card
    changed, tier = tiers.held_at(db, card.member_id, moment)
    if not changed:
        return card
    return replace(card, tier_code=tier.code if tier else None, tier_multiplier=tier.multiplier if tier else 1)


def _drop_expired_points(computed, occurred_at, expires_at, tz):
    """A back-dated bill whose points would already have expired earns none: no lot is created that
    has expired before it exists. One breakdown line takes the points away, so the lines add up."""
    expired_on = (expires_at - timedelta(microseconds=1)).astimezone(tz).date().isoformat()
    computed.breakdown.append({
        "step": "expired", "rule": "points_expiry", "points": -computed.points,
        "description": f"points of a bill of {occurred_at.astimezone(tz).date().isoformat()} expired on "
                       f"{expired_on}, before the bill was posted"})
    computed.points = 0
    computed.awards = []


def member_context(card) -> MemberContext:
    return MemberContext(card.member_id, card.tier_code, Decimal(card.tier_multiplier or 1), card.card_type_code,
                         Decimal(card.card_multiplier or 1))


def reverse_bill(db, plugins, outlet: OutletContext, bill_id, *, amount_cents=None, refund_no=None) -> Refund:
    """Refund all or part of a bill: its points come back pro rata, never more than remain.

    Without a refund_no a whole refund is keyed 'full', so retrying it replays; partial refunds
    should carry their own refund_no to be safe to retry."""
    bill = db.execute(select(Bill).where(Bill.id == bill_id).with_for_update()).scalar_one_or_none()
    if bill is None or bill.outlet_id != outlet.id:  # another outlet's bill is not there for this key
        raise NotFound(f"transaction {bill_id} does not exist", {"id": "no such transaction"})
    refund_no = refund_no or ("full" if amount_cents is None else f"auto-{_count_refunds(db, bill.id) + 1}")
    fingerprint = ledger.fingerprint_of({"amount": amount_cents, "refund_no": refund_no})
    existing = db.execute(
        select(BillRefund).where(BillRefund.bill_id == bill.id, BillRefund.refund_no == refund_no)
    ).scalar_one_or_none()
    if existing is not None:
        replay_or_conflict(existing.fingerprint, fingerprint, f"refund {refund_no!r} of transaction {bill_id} was "
                           "already made with another amount", {"refund_no": "already used with another amount"})
        return _refund_result(db, existing, replayed=True)

    refunded_cents, refunded_points = db.execute(
        select(func.coalesce(func.sum(BillRefund.amount_cents), 0), func.coalesce(func.sum(BillRefund.points), 0))
        .where(BillRefund.bill_id == bill.id)
    ).one()
    refunded_cents, refunded_points = int(refunded_cents), int(refunded_points)  # SUM is NUMERIC on PostgreSQL
    left_cents = bill.amount_cents - refunded_cents
    if left_cents == 0:
        raise Conflict(f"transaction {bill_id} is already fully refunded", {"amount": "nothing left to refund"})
    amount_cents = left_cents if amount_cents is None else amount_cents
    if amount_cents > left_cents:
        raise Conflict(f"only {format_cents(left_cents)} of transaction {bill_id} is left to refund",
                       {"amount": f"at most {format_cents(left_cents)} can be refunded"})
    # Points due back are computed on the running total, so partial refunds never drift by rounding.
    total_back = bill.points * (refunded_cents + amount_cents) // bill.amount_cents
    points = total_back - refunded_points
    entry_id, balance = None, None
    if points > 0:
        earn_entry = db.scalar(select(LedgerEntry.id).where(LedgerEntry.business_key == f"earn:{bill.outlet_id}:{bill.bill_no}"))
        posting = ledger.reverse(db, earn_entry, points,
                                 business_key=f"reversal:{bill.outlet_id}:{bill.bill_no}:{refund_no}",
                                 fingerprint=fingerprint, note=f"refund {refund_no} of bill {bill.bill_no}")
        entry_id, balance = posting.entry_id, posting.balance_after
    _reverse_bonuses_of_bill(db, bill, refunded_cents, amount_cents, refund_no, fingerprint)
    refund_id = db.scalar(insert(BillRefund).values(
        bill_id=bill.id, refund_no=refund_no, amount_cents=amount_cents, points=points, entry_id=entry_id,
        fingerprint=fingerprint, api_key_id=outlet.api_key_id, created_at=utcnow(),
    ).returning(BillRefund.id))
    db.execute(update(Bill).where(Bill.id == bill.id).values(updated_at=changed_now()))  # the website resyncs it
    if balance is None:
        balance = _points_balance_of_member_bill(db, bill)
    qualifying = _qualifying_taken_back(bill, refunded_cents, amount_cents)
    whole = amount_cents == left_cents
    if bill.member_id is not None:  # the refund's share of what the bill counted, taken back
        record_activity(db, bill.member_id, bill.occurred_at, points=-points, spend_cents=-amount_cents,
                        nights=-qualifying["nights"], stays=-qualifying["stays"], bills=-1 if whole else 0)
    plugins.hook.lps_on_bill_refunded(dbsession=db, refunded=BillRefunded(
        refund_id, refund_no, bill.id, bill.outlet_id, bill.member_id, bill.occurred_at, amount_cents, points,
        qualifying, whole=whole))
    refund = Refund(refund_id, bill.id, bill.outlet_id, bill.bill_no, bill.member_id, refund_no, amount_cents, points,
                    balance)
    if points > 0:
        plugins.hook.lps_on_points_reversed(dbsession=db, posting=posting, bill=refund)
    return refund


def _qualifying_taken_back(bill, refunded_cents, amount_cents) -> dict:
    """The nights and stays that a refund takes back of what the bill counted towards tier status,
    pro rata on running totals like the points: a whole refund takes back everything the bill
    counted, and partial refunds add up to exactly that. A stay counts until the last cent is refunded."""
    def share(count):
        return count * (refunded_cents + amount_cents) // bill.amount_cents - count * refunded_cents // bill.amount_cents

    return {"nights": share(bill.qualifying_nights or 0), "stays": share(bill.qualifying_stays or 0)}


def _reverse_bonuses_of_bill(db, bill, refunded_cents, amount_cents, refund_no, fingerprint):
    """Take back, pro rata, bonus points that the bill gave outside its own points (referral
    bonuses to the referrers). A referrer who has spent them keeps what they spent: a refund of
    the guest's bill is never refused for another member's balance."""
    earn_key = f"earn:{bill.outlet_id}:{bill.bill_no}"
    bonus_entries = db.execute(
        select(LedgerEntry.id, LedgerEntry.amount, LedgerEntry.account_id)
        .join(PromotionAward, PromotionAward.entry_id == LedgerEntry.id)
        .where(PromotionAward.bill_id == bill.id, LedgerEntry.business_key != earn_key, LedgerEntry.amount > 0)
        .order_by(LedgerEntry.id)
    ).all()
    for entry in bonus_entries:
        due = entry.amount * (refunded_cents + amount_cents) // bill.amount_cents
        already = entry.amount - ledger.reversible_amount(db, entry)
        points = min(due - already, ledger.lock_account(db, entry.account_id).balance)
        if points > 0:
            ledger.reverse(db, entry.id, points, business_key=f"reversal:{bill.outlet_id}:{bill.bill_no}:{refund_no}:"
                           f"bonus:{entry.id}", fingerprint=fingerprint,
                           note=f"refund {refund_no} of bill {bill.bill_no}: bonus taken back")


def _replay_bill(db, outlet, bill_no, fingerprint) -> EarnedBill | None:
    row = db.execute(
        select(Bill.id, Bill.member_id, Bill.amount_cents, Bill.points, Bill.fingerprint,
               LedgerEntry.balance_after, LedgerEntry.breakdown)
        .join(LedgerEntry, (LedgerEntry.bill_id == Bill.id) & (LedgerEntry.kind == ledger.EARN))
        .where(Bill.outlet_id == outlet.id, Bill.bill_no == bill_no)
    ).one_or_none()
    if row is None:
        return None
    replay_or_conflict(row.fingerprint, fingerprint, f"bill {bill_no} of outlet {outlet.code} was already posted "
                       "with other content", {"bill_no": "already posted with other content"})
    return EarnedBill(row.id, outlet.id, bill_no, row.member_id, row.amount_cents, row.points,
                      row.balance_after, row.breakdown or [], replayed=True)


def _refund_result(db, refund, replayed=False) -> Refund:
    bill = db.get(Bill, refund.bill_id)
    balance = db.scalar(select(LedgerEntry.balance_after).where(LedgerEntry.id == refund.entry_id)) \
        if refund.entry_id else _points_balance_of_member_bill(db, bill)
    return Refund(refund.id, bill.id, bill.outlet_id, bill.bill_no, bill.member_id, refund.refund_no,
                  refund.amount_cents, refund.points, balance, replayed)


def _points_balance_of_member_bill(db, bill):
    return db.scalar(select(Account.balance).where(Account.member_id == bill.member_id, Account.kind == POINTS))


def _count_refunds(db, bill_id):
    return db.scalar(select(func.count()).select_from(BillRefund).where(BillRefund.bill_id == bill_id))


def _line_json(line: BillLine):
    return {"sku": line.sku, "category": line.category, "qty": str(line.qty), "amount": format_cents(line.amount_cents)}
