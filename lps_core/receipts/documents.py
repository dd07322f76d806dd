"""The documents a receipt can print besides a settlement: an earn-only bill, a card movement
(deposit, top-up of uses, credit repayment), a redemption and a refund (of a settlement or of an
earn-only bill). Each builder answers one JSON shape, served by the API as it is and laid out by
the HTML and thermal receipts, like lps_core.cashier.documents.settlement_document.

Every builder takes the outlet of whoever asks: another outlet's document is answered exactly like
an unknown one (404), and with `lock` its row is locked, so two tills never both print an original.
Money is a decimal string, points and uses integers, times ISO 8601 in UTC."""
import re

from sqlalchemy import select

from lps_core.cards.models import Card, CardType
from lps_core.cashier.documents import balances_json, refund_json
from lps_core.cashier.models import Settlement, SettlementRefund
from lps_core.earning.models import Bill, BillRefund
from lps_core.errors import NotFound
from lps_core.ledger.models import Account, LedgerEntry
from lps_core.ledger.services import EARN
from lps_core.members.models import Member
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet, Property
from lps_core.rewards.models import Redemption, Reward
from lps_core.rewards.services import redemption_no
from lps_core.timeutil import isoformat

SETTLEMENT = "settlement"
BILL, CARD_MOVEMENT, REDEMPTION, SETTLEMENT_REFUND, BILL_REFUND = (
    "bill", "card_movement", "redemption", "settlement_refund", "bill_refund")
# The kinds of document a receipt prints, as they appear in /api/v1/receipts/{kind}/{id}.
KINDS = (SETTLEMENT, BILL, CARD_MOVEMENT, REDEMPTION, SETTLEMENT_REFUND, BILL_REFUND)
MOVEMENT_KINDS = ("deposit", "top_up", "repayment")  # the ledger entries that start a card movement
MOVEMENT_KEY = {"deposit": "deposit", "top_up": "top-up", "repayment": "repayment"}  # business key prefix
CARD_ACCOUNTS = ("stored_value", "bonus_value", "uses", "credit")  # the order a receipt shows them in
_TENDER_IN_NOTE = re.compile(r"\((\w+)\)$")  # funds.py notes end with the tender: "deposit D-1 (cash)"
_PRICE_IN_NOTE = re.compile(r" for (\d+\.\d\d) \(")  # and a top-up's price: "top-up T-1: 5 uses for 90.00 (cash)"


def _missing(kind, document_id):
    return NotFound(f"{kind.replace('_', ' ')} {document_id} does not exist", {"id": f"no such {kind}"})


def _locked(query, lock):
    return query.with_for_update() if lock else query


def _place(db, outlet_id) -> dict:
    outlet_code, outlet_name, property_code, property_name = db.execute(
        select(Outlet.code, Outlet.name, Property.code, Property.name)
        .join(Property, Property.id == Outlet.property_id).where(Outlet.id == outlet_id)).one()
    return {"outlet": {"code": outlet_code, "name": outlet_name},
            "property": {"code": property_code, "name": property_name}}


def _card_and_member(db, card_id, member_id=None) -> dict:
    card_no, type_code, type_name, card_member_id = db.execute(
        select(Card.card_no, CardType.code, CardType.name, Card.member_id)
        .join(CardType, CardType.id == Card.card_type_id).where(Card.id == card_id)).one()
    member_id = member_id if member_id is not None else card_member_id
    name = db.scalar(select(Member.name).where(Member.id == member_id)) if member_id is not None else None
    return {"card": {"card_no": card_no, "type": type_code, "type_name": type_name},
            "member": {"id": member_id, "name": name} if member_id is not None else None}


def _balance_after(db, entry_id) -> int | None:
    return db.scalar(select(LedgerEntry.balance_after).where(LedgerEntry.id == entry_id)) if entry_id else None


def bill_document(db, bill_id, outlet_id, *, lock=False) -> dict:
    """An earn-only bill (posted through /api/v1/transactions): the points it earned with their
    breakdown, the member's points after it, and the refunds made of it."""
    bill = db.scalar(_locked(select(Bill).where(Bill.id == bill_id, Bill.outlet_id == outlet_id), lock))
    if bill is None:
        raise _missing(BILL, bill_id)
    entry = db.scalar(select(LedgerEntry).where(LedgerEntry.bill_id == bill.id, LedgerEntry.kind == EARN)
                      .order_by(LedgerEntry.id).limit(1))
    refunds = db.scalars(select(BillRefund).where(BillRefund.bill_id == bill.id).order_by(BillRefund.id)).all()
    return {
        "kind": BILL, "id": bill.id, **_place(db, bill.outlet_id), "number": bill.bill_no,
        "occurred_at": isoformat(bill.occurred_at), "operator": None, **_card_and_member(db, bill.card_id, bill.member_id),
        "amount": format_cents(bill.amount_cents), "items": bill.items or [],
        "points": bill.points, "points_breakdown": (entry.breakdown if entry is not None else None) or [],
        "balances": {"points": entry.balance_after if entry is not None else None},
        "refunds": [{"refund_no": r.refund_no, "amount": format_cents(r.amount_cents), "points": r.points,
                     "created_at": isoformat(r.created_at)} for r in refunds],
    }


def card_movement_document(db, entry_id, outlet_id, *, lock=False) -> dict:
    """A deposit, a top-up of uses or a credit repayment, by its ledger entry: what was put on the
    card, the bonus a deposit earned, the tender and the card's balances right after it."""
    entry = db.scalar(_locked(select(LedgerEntry).where(
        LedgerEntry.id == entry_id, LedgerEntry.outlet_id == outlet_id, LedgerEntry.kind.in_(MOVEMENT_KINDS)), lock))
    if entry is None:
        raise _missing(CARD_MOVEMENT, entry_id)
    card_id = db.scalar(select(Account.card_id).where(Account.id == entry.account_id))
    bonus = db.scalar(select(LedgerEntry).where(LedgerEntry.business_key == f"{entry.business_key}:bonus"))
    tender = _TENDER_IN_NOTE.search(entry.note or "")
    price = _PRICE_IN_NOTE.search(entry.note or "") if entry.kind == "top_up" else None
    return {
        "kind": CARD_MOVEMENT, "id": entry.id, "movement": entry.kind, **_place(db, entry.outlet_id),
        "number": entry.business_key.split(":", 2)[2], "occurred_at": isoformat(entry.occurred_at),
        "operator": None, **_card_and_member(db, card_id),
        "amount": format_cents(abs(entry.amount)) if entry.kind != "top_up" else None,
        "uses": entry.amount if entry.kind == "top_up" else None,
        "price": price.group(1) if price else None,
        "bonus": format_cents(bonus.amount) if bonus is not None else "0.00",
        "tender": tender.group(1) if tender else None,
        "balances": _card_balances_after(db, card_id, max(entry.id, bonus.id if bonus is not None else 0)),
    }


def _card_balances_after(db, card_id, entry_id) -> dict:
    """The card's balances as they stood once `entry_id` was written: each account's last entry up to it."""
    accounts = db.execute(select(Account.id, Account.kind).where(Account.card_id == card_id)).all()
    balances = {}
    for account_id, kind in sorted(accounts, key=lambda account: CARD_ACCOUNTS.index(account[1])):
        balance = db.scalar(select(LedgerEntry.balance_after).where(
            LedgerEntry.account_id == account_id, LedgerEntry.id <= entry_id).order_by(LedgerEntry.id.desc()).limit(1))
        if balance is not None:
            balances["credit_used" if kind == "credit" else kind] = balance
    return balances_json(balances)


def redemption_document(db, redemption_id, outlet_id, *, lock=False) -> dict:
    """A redemption: the reward, quantity and points, its status (collected, awaiting pick-up,
    cancelled), the voucher's expiry and the member's points after it."""
    redemption = db.scalar(_locked(select(Redemption).where(
        Redemption.id == redemption_id, Redemption.outlet_id == outlet_id), lock))
    if redemption is None:
        raise _missing(REDEMPTION, redemption_id)
    reward_code, reward_name, category = db.execute(
        select(Reward.code, Reward.name, Reward.category).where(Reward.id == redemption.reward_id)).one()
    return {
        "kind": REDEMPTION, "id": redemption.id, **_place(db, redemption.outlet_id),
        "number": redemption_no(redemption.id), "request_no": redemption.request_no,
        "occurred_at": isoformat(redemption.redeemed_at), "operator": None,
        **_card_and_member(db, redemption.card_id, redemption.member_id),
        "reward": {"code": reward_code, "name": reward_name, "category": category},
        "quantity": redemption.quantity, "points": redemption.points, "status": redemption.status,
        "voucher_expires_at": isoformat(redemption.voucher_expires_at) if redemption.voucher_expires_at else None,
        "collected_at": isoformat(redemption.collected_at) if redemption.collected_at else None,
        "cancelled_at": isoformat(redemption.cancelled_at) if redemption.cancelled_at else None,
        "cancel_reason": redemption.cancel_reason,
        "balances": {"points": _balance_after(db, redemption.entry_id)},
    }


def settlement_refund_document(db, refund_id, outlet_id, *, lock=False) -> dict:
    """A settlement's refund: what went back to each tender, and the points taken back."""
    refund = db.scalar(_locked(select(SettlementRefund).join(Settlement, Settlement.id == SettlementRefund.settlement_id)
                               .where(SettlementRefund.id == refund_id, Settlement.outlet_id == outlet_id), lock))
    if refund is None:
        raise _missing(SETTLEMENT_REFUND, refund_id)
    settlement = db.get(Settlement, refund.settlement_id)
    shaped = refund_json(refund)
    return {
        "kind": SETTLEMENT_REFUND, "id": refund.id, **_place(db, settlement.outlet_id),
        "number": refund.refund_no, "bill_no": settlement.bill_no, "settlement_id": settlement.id,
        "occurred_at": shaped["created_at"], "operator": refund.operator,
        **_card_and_member(db, settlement.card_id, settlement.member_id),
        "amount": shaped["amount"], "points": refund.points, "reason": refund.reason, "tenders": shaped["tenders"],
    }


def bill_refund_document(db, refund_id, outlet_id, *, lock=False) -> dict:
    """An earn-only bill's refund (its reversal): the amount and the points taken back, and the
    member's points after it. The money went back outside LPS, so there are no tenders."""
    refund = db.scalar(_locked(select(BillRefund).join(Bill, Bill.id == BillRefund.bill_id)
                               .where(BillRefund.id == refund_id, Bill.outlet_id == outlet_id), lock))
    if refund is None:
        raise _missing(BILL_REFUND, refund_id)
    bill = db.get(Bill, refund.bill_id)
    return {
        "kind": BILL_REFUND, "id": refund.id, **_place(db, bill.outlet_id),
        "number": refund.refund_no, "bill_no": bill.bill_no, "bill_id": bill.id,
        "occurred_at": isoformat(refund.created_at), "operator": None,
        **_card_and_member(db, bill.card_id, bill.member_id),
        "amount": format_cents(refund.amount_cents), "points": refund.points, "reason": None, "tenders": [],
        "balances": {"points": _balance_after(db, refund.entry_id)},
    }


BUILDERS = {BILL: bill_document, CARD_MOVEMENT: card_movement_document, REDEMPTION: redemption_document,
            SETTLEMENT_REFUND: settlement_refund_document, BILL_REFUND: bill_refund_document}


def document_outlet_id(db, kind, document_id) -> int | None:
    """The outlet a document belongs to (None if there is no such document): the staff screens
    check it against the user's outlets before printing, as the API checks its key's."""
    if kind == BILL:
        query = select(Bill.outlet_id).where(Bill.id == document_id)
    elif kind == CARD_MOVEMENT:
        query = select(LedgerEntry.outlet_id).where(LedgerEntry.id == document_id, LedgerEntry.kind.in_(MOVEMENT_KINDS))
    elif kind == REDEMPTION:
        query = select(Redemption.outlet_id).where(Redemption.id == document_id)
    elif kind == SETTLEMENT_REFUND:
        query = select(Settlement.outlet_id).join(SettlementRefund, SettlementRefund.settlement_id == Settlement.id) \
            .where(SettlementRefund.id == document_id)
    elif kind == BILL_REFUND:
        query = select(Bill.outlet_id).join(BillRefund, BillRefund.bill_id == Bill.id).where(BillRefund.id == document_id)
    else:
        return None
    return db.scalar(query)


def build_document(db, kind, document_id, outlet_id, *, lock=False) -> dict:
    """The document of `kind` (one of BUILDERS), if it belongs to the outlet."""
    return BUILDERS[kind](db, document_id, outlet_id, lock=lock)
