"""What a card's product (its card type) grants at a given outlet and moment: the discount rate
that applies, whether the card is inside its validity period, and the one rule that decides
whether a card may be used for a purpose (earning, paying, a deposit, a redemption, a PIN change)."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from lps_core.errors import Unprocessable
from lps_core.timeutil import as_utc

# purpose -> (card statuses that allow it, whether the card must belong to a member, what staff read)
CARD_USES = {
    "earn": (("active",), True, "earn points"),
    "redeem": (("active",), True, "redeem points"),
    "settle": (("active",), False, "pay a bill"),
    "deposit": (("active",), False, "take a deposit"),
    "top_up": (("active",), False, "take a top-up"),
    "repay": (("active",), False, "take a repayment"),
    "pin": (("active", "frozen"), False, "have its PIN changed"),
}
# A dormant member becomes active again by using the card; every other member status refuses it.
USABLE_MEMBER_STATUSES = ("active", "dormant")


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
    return _window_problem((card.valid_from, card_type.valid_from), (card.valid_to, card_type.valid_to), at, tz)


def _window_problem(starts, ends, at, tz) -> str | None:
    zone = tz or timezone.utc
    moment = as_utc(at)
    starts = [as_utc(value) for value in starts if value is not None]
    ends = [as_utc(value) for value in ends if value is not None]
    if starts and moment < max(starts):
        return f"card is valid from {max(starts).astimezone(zone).date().isoformat()}"
    if ends and moment >= min(ends):
        last_moment = min(ends) - timedelta(microseconds=1)
        return f"card expired on {last_moment.astimezone(zone).date().isoformat()}"
    return None


@dataclass(frozen=True)
class CardUse:
    """What the usability rule reads of a card: its number and status, whether it has a member and
    the member's status, and the validity windows of the card and of its type."""

    card_no: str
    status: str
    has_member: bool
    member_status: str | None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    type_valid_from: datetime | None = None
    type_valid_to: datetime | None = None

    @classmethod
    def of_card(cls, card) -> "CardUse":
        """From a Card row; its type and member are read through its relationships."""
        member = card.member
        return cls(card.card_no, card.status, member is not None, member.status if member is not None else None,
                   card.valid_from, card.valid_to, card.card_type.valid_from, card.card_type.valid_to)


def usability_problem(card: CardUse, at: datetime, purpose: str, *, tz=None) -> str | None:
    """Why the card may not be used for `purpose` at `at` (one of CARD_USES), or None when it may:
    its status allows the purpose, `at` lies inside the card's and its type's validity windows, a
    purpose that moves points has a member, and the member (if any) is active or dormant."""
    statuses, needs_member, _ = CARD_USES[purpose]
    if card.status not in statuses:
        return f"card is {card.status}"
    problem = _window_problem((card.valid_from, card.type_valid_from), (card.valid_to, card.type_valid_to), at, tz)
    if problem:
        return problem
    if not card.has_member:
        return "card has no member" if needs_member else None
    if card.member_status not in USABLE_MEMBER_STATUSES:
        return f"member is {card.member_status}"
    return None


def ensure_usable(card, at: datetime, purpose: str, *, tz=None, field="card_no") -> None:
    """Raise Unprocessable (422, naming `field`) unless the card may be used for `purpose` at `at`.

    `card` is a Card row or a CardUse. Every path that uses a card (earning, cashier settlement,
    deposits, top-ups, repayments, redemptions, PIN changes) asks this one function."""
    use = card if isinstance(card, CardUse) else CardUse.of_card(card)
    problem = usability_problem(use, at, purpose, tz=tz)
    if problem is None:
        return
    doing = CARD_USES[purpose][2]
    if problem == "card has no member":
        message = f"card {use.card_no} is a bearer card without a member: it cannot {doing}"
    elif problem.startswith("member is "):
        message = f"the member of card {use.card_no} is {use.member_status}: the card cannot {doing}"
    elif problem.startswith("card is ") and " valid from " not in problem:
        message = f"card {use.card_no} is {use.status}: it cannot {doing}"
    else:
        message = f"card {use.card_no}: {problem}, so it cannot {doing}"
    raise Unprocessable(message, {field: problem})
