"""What an earning formula plugin receives and returns."""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


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
