"""The settlement document: one JSON shape for the API's answer and for the printed receipt.

Money is a decimal string, uses and points are integers, times are ISO 8601 in UTC."""
from sqlalchemy import select

from lps_core.cards.models import Card, CardType
from lps_core.cashier.models import Settlement, SettlementRefund, SettlementTender
from lps_core.errors import NotFound
from lps_core.ledger.models import LedgerEntry
from lps_core.members.models import Member, Tier
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet, Property
from lps_core.timeutil import isoformat

MONEY_BALANCES = ("stored_value", "bonus_value", "credit_used", "credit_limit", "credit_left")


def settlement_document(db, settlement_id) -> dict:
    settlement = db.get(Settlement, settlement_id)
    if settlement is None:
        raise NotFound(f"settlement {settlement_id} does not exist", {"id": "no such settlement"})
    outlet, prop = db.execute(select(Outlet, Property).join(Property, Property.id == Outlet.property_id)
                              .where(Outlet.id == settlement.outlet_id)).one()
    card, card_type = db.execute(select(Card, CardType).join(CardType, CardType.id == Card.card_type_id)
                                 .where(Card.id == settlement.card_id)).one()
    member = db.get(Member, settlement.member_id) if settlement.member_id else None
    tier = db.get(Tier, member.tier_id) if member is not None and member.tier_id else None
    tenders = db.scalars(select(SettlementTender).where(SettlementTender.settlement_id == settlement.id)
                         .order_by(SettlementTender.position)).all()
    refunds = db.scalars(select(SettlementRefund).where(SettlementRefund.settlement_id == settlement.id)
                         .order_by(SettlementRefund.id)).all()
    breakdown = db.scalar(select(LedgerEntry.breakdown).where(
        LedgerEntry.business_key == f"earn:{settlement.outlet_id}:{settlement.bill_no}")) if settlement.bill_id else None
    return {
        "id": settlement.id,
        "outlet": {"code": outlet.code, "name": outlet.name},
        "property": {"code": prop.code, "name": prop.name},
        "bill_no": settlement.bill_no,
        "occurred_at": isoformat(settlement.occurred_at),
        "operator": settlement.operator,
        "card": {"card_no": card.card_no, "type": card_type.code, "type_name": card_type.name},
        "member": {"id": member.id, "name": member.name} if member is not None else None,
        "tier": {"code": tier.code, "name": tier.name, "discount_rate": str(tier.discount_rate.normalize())}
        if tier is not None else None,
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
