"""What a card's product (its card type) grants at a given outlet and moment: the discount rate
that applies and whether the card is inside its validity period."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from lps_core.timeutil import as_utc


def discount_rate(card_type, outlet_code: str, category: str | None) -> Decimal:
    """The discount rate for a purchase in `category` at `outlet_code`.

    card_type.discount_overrides is a list such as [{"outlet": "SPA", "category": "treatment",
    "rate": "0.15"}], each key optional. The most specific match wins: outlet and category, then
    category alone, then outlet alone; with no match, the type's own discount_rate."""
    best = None
    best_rank = 0
    for override in card_type.discount_overrides or ():
        outlet, wanted = override.get("outlet"), override.get("category")
        if outlet is not None and outlet != outlet_code:
            continue
        if wanted is not None and wanted != category:
            continue
        rank = 3 if outlet and wanted else 2 if wanted else 1 if outlet else 0
        if rank > best_rank:
            best, best_rank = override, rank
    if best is None:
        return Decimal(card_type.discount_rate or 0)
    return Decimal(str(best["rate"]))


def validity_problem(card, card_type, at: datetime, *, tz=None) -> str | None:
    """None when `at` lies inside both the card's and the card type's [valid_from, valid_to)
    windows (a missing bound is open); otherwise why the card may not be used, for example
    "card is valid from 2026-12-01" or "card expired on 2026-11-30".

    The dates in the message are calendar dates in `tz` (pass the programme's time zone); UTC when
    it is not given. "expired on" names the last day the card could be used."""
    zone = tz or timezone.utc
    moment = as_utc(at)
    starts = [as_utc(value) for value in (card.valid_from, card_type.valid_from) if value is not None]
    ends = [as_utc(value) for value in (card.valid_to, card_type.valid_to) if value is not None]
    if starts and moment < max(starts):
        return f"card is valid from {max(starts).astimezone(zone).date().isoformat()}"
    if ends and moment >= min(ends):
        last_moment = min(ends) - timedelta(microseconds=1)
        return f"card expired on {last_moment.astimezone(zone).date().isoformat()}"
    return None
