"""What the cashier's optional item lines offer to pick, instead of free text: the SKUs and categories
the programme knows (promotions name them, card types' discount overrides name categories) and those
on the outlet's recent bills; and the member's discount rate for each category, computed by the same
rule the settlement applies (lps_core.cashier.services.price_lines), so the screen's amount due is
the one the bill will be charged."""
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select

from lps_core.cards.models import CardType
from lps_core.cards.products import discount_rate
from lps_core.cashier.models import Settlement
from lps_core.earning.models import Promotion

RECENT_BILLS = 200  # the outlet's latest settlements read for their SKUs and categories
MAX_CHOICES = 200  # per picker


def known_lines(db, outlet_id: int, outlet_code: str) -> dict:
    """{"skus": [...], "categories": [...]}, sorted. A promotion or override limited to other
    outlets is left out."""
    skus, categories = set(), set()
    for listed_skus, listed_categories, outlets in db.execute(
            select(Promotion.skus, Promotion.categories, Promotion.outlets).where(Promotion.active.is_(True))):
        if outlets and outlet_code not in outlets:
            continue
        skus.update(listed_skus or ())
        categories.update(listed_categories or ())
    for (overrides,) in db.execute(select(CardType.discount_overrides)):
        categories.update(override["category"] for override in overrides or ()
                          if override.get("category") and override.get("outlet") in (None, outlet_code))
    recent = (select(Settlement.items).where(Settlement.outlet_id == outlet_id)
              .order_by(Settlement.id.desc()).limit(RECENT_BILLS))
    for (items,) in db.execute(recent):
        for item in items or ():
            if item.get("sku"):
                skus.add(item["sku"])
            if item.get("category"):
                categories.add(item["category"])
    return {"skus": sorted(skus)[:MAX_CHOICES], "categories": sorted(categories)[:MAX_CHOICES]}


def rates_by_category(db, card: dict, outlet_code: str, categories) -> dict[str, str]:
    """The discount rate of a line in each category ("" for a line without one) for the looked-up
    card (the look-up's picture): the better of the card type's rate and the tier's."""
    overrides, base = db.execute(select(CardType.discount_overrides, CardType.discount_rate)
                                 .where(CardType.code == card["card_type"]["code"])).one()
    card_type = SimpleNamespace(discount_overrides=overrides, discount_rate=base)
    tier_rate = Decimal(card["tier"]["discount_rate"]) if card["tier"] else Decimal(0)
    return {category: str(max(discount_rate(card_type, outlet_code, category or None), tier_rate).normalize())
            for category in ("", *categories)}
