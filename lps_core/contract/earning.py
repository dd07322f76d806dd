"""Earning formulas: what a formula plugin receives (a bill) and returns (base points explained)."""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from zope.interface import Attribute, Interface


@dataclass(frozen=True)
class BillLine:
    sku: str
    category: str
    qty: Decimal
    amount_cents: int


@dataclass(frozen=True)
class BillInput:
    """A bill as the formula sees it; amounts in integer cents."""

    outlet_code: str
    bill_no: str
    amount_cents: int
    occurred_at: datetime
    items: tuple[BillLine, ...] = ()
    tier_code: str | None = None
    card_type_code: str | None = None


@dataclass
class EarningResult:
    """Base points and the steps that explain them.

    Each step is a dict with at least `step` (what kind of rule), `rule` (its name), `description`
    (one sentence for staff and members) and `points` (what this step added; may be negative).
    The points of all steps add up to `points`. `qualifying` carries what the bill counts towards
    tier status besides points and spend, e.g. {"nights": 3, "stays": 1} for a room bill."""

    points: int
    steps: list[dict] = field(default_factory=list)
    qualifying: dict = field(default_factory=dict)


class IEarningFormula(Interface):
    """Turns a bill into base points for one outlet, with parameters stored on the outlet's rule."""

    name = Attribute("Unique name that outlets use to choose this formula, e.g. 'base_rate'")
    description = Attribute("One line for staff screens and `lps plugins`")

    def validate_params(params):
        """Return the cleaned parameters, or raise ValueError naming the bad parameter."""

    def compute(bill, params):
        """Return an EarningResult for a BillInput, given cleaned parameters."""


@dataclass(frozen=True)
class BillPosted:
    """The event of lps_on_bill_posted: a member's bill recorded and its points posted, in the
    transaction that posted them.

    `bill` is the bill as the formula saw it (at the tier it earned at), `points` what it earned and
    `entry_id` the ledger entry that credited them. `qualifying` is what the bill counts towards tier
    status besides points and spend, e.g. {"nights": 3, "stays": 1}. `member_status` is the
    member's status before the bill (a "dormant" member is active again once the bill is posted);
    `referred_by_id` the member who referred them, if any. `card_id` is the card the bill was posted
    with, `partner_id` the partner (property id) that co-brands its card type, or None, and
    `breakdown` the steps that explain the points (as the ledger entry keeps them). `programme`,
    `plugins` and `activity` are
    for LPS's own listeners (its earning programme, its plugin registry, and the member's activity
    over the tier window as the bill's own statement read it back, or None); a plugin should not rely
    on what they hold."""

    bill_id: int
    outlet_id: int
    bill: BillInput
    member_id: int
    points: int
    entry_id: int
    qualifying: dict
    referred_by_id: int | None = None
    member_status: str = "active"
    programme: object = None
    plugins: object = None
    activity: object = None
    card_id: int | None = None
    partner_id: int | None = None
    breakdown: list = field(default_factory=list)


@dataclass(frozen=True)
class BillRefunded:
    """The event of lps_on_bill_refunded: all or part of a member's bill refunded, in the refund's
    transaction.

    `amount_cents` is what this refund gives back, `points` the bill's points it took back (0 when
    none were left), `bill_occurred_at` when the refunded bill happened. `qualifying` is what the
    refund takes back of what the bill counted towards tier status, pro rata and as positive
    numbers, e.g. {"nights": 1, "stays": 0}; `whole` is true when this refund returns the bill's
    last cent, so the bill no longer counts at all."""

    refund_id: int
    refund_no: str
    bill_id: int
    outlet_id: int
    member_id: int
    bill_occurred_at: datetime
    amount_cents: int
    points: int
    qualifying: dict
    whole: bool
