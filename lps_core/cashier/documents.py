"""The settlement document: one JSON shape for the API's answer and for the printed receipt.

Money is a decimal string, uses and points are integers, times are ISO 8601 in UTC."""
from sqlalchemy import select

from lps_core.cards.models import Card, CardType
from lps_core.cashier.models import Settlement, SettlementRefund, SettlementTender
from lps_core.errors import NotFound
from lps_core.ledger.models import LedgerEntry
from lps_core.ledger.services import EARN
from lps_core.members.models import Member, Tier
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet, Property
from lps_core.timeutil import isoformat

MONEY_BALANCES = ("stored_value", "bonus_value", "credit_used", "credit_limit", "credit_left")


def settlement_document(db, settlement_id) -> dict:
    # One statement for the settlement and all it names (outlet, property, card, type, member, tier,
    # the earn entry's breakdown), then its tenders and its refunds.
    row = db.execute(
        select(Settlement, Outlet.code, Outlet.name, Property.code, Property.name, Card.card_no, CardType.code,
               CardType.name, Member.id, Member.name, Tier.code, Tier.name, Tier.discount_rate, LedgerEntry.breakdown)
        .join(Outlet, Outlet.id == Settlement.outlet_id).join(Property, Property.id == Outlet.property_id)
        .join(Card, Card.id == Settlement.card_id).join(CardType, CardType.id == Card.card_type_id)
        .outerjoin(Member, Member.id == Settlement.member_id).outerjoin(Tier, Tier.id == Member.tier_id)
        .outerjoin(LedgerEntry, (LedgerEntry.bill_id == Settlement.bill_id) & (LedgerEntry.kind == EARN))
        .where(Settlement.id == settlement_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"settlement {settlement_id} does not exist", {"id": "no such settlement"})
    (settlement, outlet_code, outlet_name, property_code, property_name, card_no, type_code, type_name,
     member_id, member_name, tier_code, tier_name, tier_discount_rate, breakdown) = row
    tenders = db.scalars(select(SettlementTender).where(SettlementTender.settlement_id == settlement.id)
                         .order_by(SettlementTender.position)).all()
    refunds = db.scalars(select(SettlementRefund).where(SettlementRefund.settlement_id == settlement.id)
                         .order_by(SettlementRefund.id)).all()
    return {
        "id": settlement.id,
        "outlet": {"code": outlet_code, "name": outlet_name},
        "property": {"code": property_code, "name": property_name},
        "bill_no": settlement.bill_no,
        "occurred_at": isoformat(settlement.occurred_at),
        "operator": settlement.operator,
        "card": {"card_no": card_no, "type": type_code, "type_name": type_name},
        "member": {"id": member_id, "name": member_name} if member_id is not None else None,
        "tier": {"code": tier_code, "name": tier_name, "discount_rate": str(tier_discount_rate.normalize())}
        if tier_code is not None else None,
        "items": settlement.items,
        "gross": format_cents(settlement.gross_cents),
        "discount": format_cents(settlement.discount_cents),
        "charged": format_cents(settlement.charged_cents),
        "earning_basis": format_cents(settlement.earning_basis_cents),
        "tenders": [_tender_json(t) for t in tenders],
        "points": settlement.points,
        "points_breakdown": breakdown or [],
        "balances": balances_json(settlement.balances),
        "refunds": [refund_json(r) for r in refunds],
        "refundable": format_cents(settlement.charged_cents - sum(r.amount_cents for r in refunds)),
    }


def refund_json(refund: SettlementRefund) -> dict:
    return {
        "id": refund.id,
        "refund_no": refund.refund_no,
        "amount": format_cents(refund.amount_cents),
        "points": refund.points,
        "reason": refund.reason,
        "operator": refund.operator,
        "created_at": isoformat(refund.created_at),
        "tenders": [_returned_json(r) for r in refund.tenders],
    }


def _tender_json(tender: SettlementTender) -> dict:
    def money(cents):
        return format_cents(cents) if cents is not None else None

    return {"kind": tender.kind, "amount": format_cents(tender.amount_cents), "uses": tender.uses,
            "principal": money(tender.principal_cents), "bonus": money(tender.bonus_cents),
            "reference": tender.reference, "details": tender.details}


def _returned_json(returned: dict) -> dict:
    """What went back to one tender, as its tender's give_back described it: amounts in cents
    (`*_cents`) as money without the suffix, anything else as it is."""
    shaped = {"kind": returned["kind"], "amount": format_cents(returned["amount_cents"])}
    for name, value in returned.items():
        if name in ("position", "kind", "amount_cents", "to"):
            continue
        if name.endswith("_cents"):
            shaped[name.removesuffix("_cents")] = format_cents(value)
        else:
            shaped[name] = value
    return shaped


def balances_json(balances: dict) -> dict:
    return {name: format_cents(value) if name in MONEY_BALANCES and value is not None else value
            for name, value in balances.items()}
