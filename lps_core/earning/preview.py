"""Previewing a bill: the points a hypothetical bill would earn, computed exactly as earning
would, without posting anything. Used by POST /api/v1/preview and by the configuration screens."""
from dataclasses import dataclass

from sqlalchemy import select

from lps_core.cards.models import CardType
from lps_core.cards.services import get_card
from lps_core.contract import BillInput
from lps_core.earning.facts import MemberFacts
from lps_core.earning.pipeline import MemberContext, NoFacts, compute_points
from lps_core.earning.rules import outlet_id_of
from lps_core.earning.services import EarnRequest, member_context
from lps_core.errors import Unprocessable
from lps_core.members.models import Tier
from lps_core.timeutil import utcnow


@dataclass(frozen=True)
class Preview:
    outlet: str
    rule_version: int
    points: int
    breakdown: list
    qualifying: dict


def preview_bill(db, plugins, programme, outlet_code, bill: EarnRequest, *, card_no=None, tier=None,
                 card_type=None) -> Preview:
    """What `bill` (validated by earning.schemas.PreviewIn) earns at `outlet_code`: for the member holding
    `card_no`, or without a card for a member of `tier` holding a card of `card_type` (both optional)."""
    outlet_id = outlet_id_of(db, outlet_code)
    programme.limits.check_bill_amount(bill.amount_cents, outlet_code)
    facts = NoFacts()
    if card_no is not None:
        card = get_card(db, card_no)
        member = member_context(card)
        facts = MemberFacts(db, programme, card.member_id)
    else:
        member = hypothetical_member(db, tier, card_type)
    occurred_at = bill.occurred_at or utcnow()
    rule = programme.rules.rule_at(db, outlet_id, occurred_at)
    bill_input = BillInput(outlet_code, bill.bill_no, bill.amount_cents, occurred_at, bill.items,
                           member.tier_code, member.card_type_code)
    promotions = programme.promotions.on_at(db, plugins, outlet_id)
    computed = compute_points(plugins, rule, bill_input, member, promotions, facts, programme.timezone,
                              ceiling=programme.limits.max_points_at(outlet_code), rounding=programme.rounding)
    return Preview(outlet_code, rule.version, computed.points, computed.breakdown, computed.qualifying)


def hypothetical_member(db, tier_code, card_type_code) -> MemberContext:
    tier = card_type = None
    if tier_code is not None:
        tier = db.execute(select(Tier.code, Tier.multiplier).where(Tier.code == tier_code)).one_or_none()
        if tier is None:
            raise Unprocessable(f"tier {tier_code!r} does not exist", {"tier": "no such tier"})
    if card_type_code is not None:
        card_type = db.execute(select(CardType.code, CardType.points_multiplier)
                               .where(CardType.code == card_type_code)).one_or_none()
        if card_type is None:
            raise Unprocessable(f"card type {card_type_code!r} does not exist",
                                {"card_type": "no such card type"})
    return MemberContext(None, tier.code if tier else None, tier.multiplier if tier else 1,
                         card_type.code if card_type else None, card_type.points_multiplier if card_type else 1)
