"""The five sync lists the website pages through (lps_core.website.sync): members, bills,
settlements, redemptions and ledger entries of the whole programme, each row as the website
keeps it. A page costs one query for its rows and at most one more for what hangs off them (a
member's cards, a bill's refunds, a settlement's tenders), whatever its length."""
from collections import defaultdict

from sqlalchemy import func, select

from lps_core.cards.models import Card, CardType
from lps_core.cashier.models import Settlement, SettlementRefund, SettlementTender
from lps_core.earning.models import Bill, BillRefund
from lps_core.ledger.models import CREDIT, STORED_VALUE, STORED_VALUE_BONUS, Account, LedgerEntry
from lps_core.members.models import Member, Tier
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet
from lps_core.rewards.models import Redemption, Reward
from lps_core.rewards.services import redemption_no
from lps_core.timeutil import isoformat
from lps_core.website.sync import page_of

MONEY_ACCOUNTS = (STORED_VALUE, STORED_VALUE_BONUS, CREDIT)
LISTS = ("members", "bills", "settlements", "redemptions", "ledger-entries")


def _when(value):
    return isoformat(value) if value is not None else None


def _page(db, query, stamp, row_id, sync, settle):
    return page_of(db, query, stamp, row_id, changed_since=sync.changed_since, cursor=sync.cursor,
                   limit=sync.limit, settle=settle)


def members(db, sync, settle):
    """Members with their tier and cards; personal data other than the phone number stays in LPS."""
    query = (select(Member.id, Member.name, Member.status, Member.status_reason, Member.channel, Member.email,
                    Member.phone, Member.birthday, Member.gender, Member.language, Member.tier_since,
                    Member.created_at, Member.approved_at, Member.updated_at, Tier.code.label("tier_code"),
                    Tier.name.label("tier_name"))
             .outerjoin(Tier, Tier.id == Member.tier_id))
    page = _page(db, query, Member.updated_at, Member.id, sync, settle)
    cards = defaultdict(list)
    ids = [row.id for row in page.rows]
    if ids:
        for member_id, card_no, status, type_code in db.execute(
                select(Card.member_id, Card.card_no, Card.status, CardType.code)
                .join(CardType, CardType.id == Card.card_type_id)
                .where(Card.member_id.in_(ids)).order_by(Card.id)):
            cards[member_id].append({"card_no": card_no, "status": status, "card_type": type_code})
    return [{
        "id": row.id, "name": row.name, "status": row.status, "status_reason": row.status_reason,
        "channel": row.channel, "email": row.email, "phone": row.phone,
        "birthday": row.birthday.isoformat() if row.birthday else None, "gender": row.gender,
        "language": row.language,
        "tier": {"code": row.tier_code, "name": row.tier_name} if row.tier_code else None,
        "tier_since": _when(row.tier_since), "cards": cards[row.id],
        "created_at": _when(row.created_at), "approved_at": _when(row.approved_at),
        "updated_at": _when(row.updated_at),
    } for row in page.rows], page


def bills(db, sync, settle):
    """Bills posted for earning, with what their refunds took back so far."""
    query = (select(Bill.id, Bill.bill_no, Bill.member_id, Bill.amount_cents, Bill.points, Bill.occurred_at,
                    Bill.created_at, Bill.updated_at, Outlet.code.label("outlet"), Card.card_no)
             .join(Outlet, Outlet.id == Bill.outlet_id).join(Card, Card.id == Bill.card_id))
    page = _page(db, query, Bill.updated_at, Bill.id, sync, settle)
    refunds = {}
    ids = [row.id for row in page.rows]
    if ids:
        refunds = {bill_id: (count, amount, points) for bill_id, count, amount, points in db.execute(
            select(BillRefund.bill_id, func.count(), func.sum(BillRefund.amount_cents), func.sum(BillRefund.points))
            .where(BillRefund.bill_id.in_(ids)).group_by(BillRefund.bill_id))}
    records = []
    for row in page.rows:
        count, amount, points = refunds.get(row.id, (0, 0, 0))
        records.append({
            "id": row.id, "outlet": row.outlet, "bill_no": row.bill_no, "member_id": row.member_id,
            "card_no": row.card_no, "amount": format_cents(row.amount_cents), "points": row.points,
            "occurred_at": _when(row.occurred_at),
            "refunds": {"count": count, "amount": format_cents(int(amount or 0)), "points": int(points or 0)},
            "created_at": _when(row.created_at), "updated_at": _when(row.updated_at)})
    return records, page


def settlements(db, sync, settle):
    """Bills settled at the cashier, with their tenders and what their refunds gave back so far."""
    query = (select(Settlement.id, Settlement.bill_no, Settlement.member_id, Settlement.gross_cents,
                    Settlement.discount_cents, Settlement.charged_cents, Settlement.points, Settlement.bill_id,
                    Settlement.occurred_at, Settlement.created_at, Settlement.updated_at,
                    Outlet.code.label("outlet"), Card.card_no)
             .join(Outlet, Outlet.id == Settlement.outlet_id).join(Card, Card.id == Settlement.card_id))
    page = _page(db, query, Settlement.updated_at, Settlement.id, sync, settle)
    tenders, refunds = defaultdict(list), {}
    ids = [row.id for row in page.rows]
    if ids:
        for settlement_id, kind, amount in db.execute(
                select(SettlementTender.settlement_id, SettlementTender.kind, SettlementTender.amount_cents)
                .where(SettlementTender.settlement_id.in_(ids)).order_by(SettlementTender.position)):
            tenders[settlement_id].append({"kind": kind, "amount": format_cents(amount)})
        refunds = {settlement_id: (count, amount, points) for settlement_id, count, amount, points in db.execute(
            select(SettlementRefund.settlement_id, func.count(), func.sum(SettlementRefund.amount_cents),
                   func.sum(SettlementRefund.points))
            .where(SettlementRefund.settlement_id.in_(ids)).group_by(SettlementRefund.settlement_id))}
    records = []
    for row in page.rows:
        count, amount, points = refunds.get(row.id, (0, 0, 0))
        records.append({
            "id": row.id, "outlet": row.outlet, "bill_no": row.bill_no, "member_id": row.member_id,
            "card_no": row.card_no, "gross": format_cents(row.gross_cents),
            "discount": format_cents(row.discount_cents), "charged": format_cents(row.charged_cents),
            "points": row.points, "bill_id": row.bill_id, "occurred_at": _when(row.occurred_at),
            "tenders": tenders[row.id],
            "refunds": {"count": count, "amount": format_cents(int(amount or 0)), "points": int(points or 0)},
            "created_at": _when(row.created_at), "updated_at": _when(row.updated_at)})
    return records, page


def redemptions(db, sync, settle):
    """Rewards redeemed or reserved, with their status (awaiting pick-up, collected, cancelled)."""
    query = (select(Redemption.id, Redemption.member_id, Redemption.quantity, Redemption.points, Redemption.status,
                    Redemption.voucher_expires_at, Redemption.redeemed_at, Redemption.collected_at,
                    Redemption.cancelled_at, Redemption.cancel_reason, Redemption.updated_at,
                    Outlet.code.label("outlet"), Card.card_no, Reward.code.label("reward_code"),
                    Reward.name.label("reward_name"), Reward.category)
             .join(Outlet, Outlet.id == Redemption.outlet_id).join(Card, Card.id == Redemption.card_id)
             .join(Reward, Reward.id == Redemption.reward_id))
    page = _page(db, query, Redemption.updated_at, Redemption.id, sync, settle)
    return [{
        "id": row.id, "no": redemption_no(row.id), "outlet": row.outlet, "member_id": row.member_id,
        "card_no": row.card_no,
        "reward": {"code": row.reward_code, "name": row.reward_name, "category": row.category},
        "quantity": row.quantity, "points": row.points, "status": row.status,
        "voucher_expires_at": _when(row.voucher_expires_at), "redeemed_at": _when(row.redeemed_at),
        "collected_at": _when(row.collected_at), "cancelled_at": _when(row.cancelled_at),
        "cancel_reason": row.cancel_reason, "updated_at": _when(row.updated_at),
    } for row in page.rows], page


def ledger_entries(db, sync, settle):
    """Every ledger entry of every account: a member's points, a card's stored value, uses, credit.
    Money accounts' amounts are decimal strings, points and uses whole numbers."""
    owner_card = Card.__table__.alias("owner_card")
    query = (select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.balance_after,
                    LedgerEntry.reverses_id, LedgerEntry.occurred_at, LedgerEntry.created_at, LedgerEntry.note,
                    Account.kind.label("account"),
                    func.coalesce(Account.member_id, owner_card.c.member_id).label("member_id"),
                    owner_card.c.card_no, Outlet.code.label("outlet"), Bill.bill_no)
             .join(Account, Account.id == LedgerEntry.account_id)
             .outerjoin(owner_card, owner_card.c.id == Account.card_id)
             .outerjoin(Outlet, Outlet.id == LedgerEntry.outlet_id)
             .outerjoin(Bill, Bill.id == LedgerEntry.bill_id))
    page = _page(db, query, LedgerEntry.created_at, LedgerEntry.id, sync, settle)

    def value(row, amount):
        return format_cents(amount) if row.account in MONEY_ACCOUNTS else amount

    return [{
        "id": row.id, "account": row.account, "member_id": row.member_id, "card_no": row.card_no,
        "kind": row.kind, "amount": value(row, row.amount), "balance_after": value(row, row.balance_after),
        "reverses": row.reverses_id, "outlet": row.outlet, "bill_no": row.bill_no, "note": row.note,
        "occurred_at": _when(row.occurred_at), "created_at": _when(row.created_at),
    } for row in page.rows], page


READERS = {"members": members, "bills": bills, "settlements": settlements, "redemptions": redemptions,
           "ledger-entries": ledger_entries}
