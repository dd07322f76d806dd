"""Input schemas of the tier API and of the tier configuration screen: buying a tier with points, a
staff floor, and the programme's tiers themselves (create, change, reorder)."""
from typing import Literal

from pydantic import Field, model_validator

from lps_core.cards.schemas import DecimalText, Rate
from lps_core.money import format_cents
from lps_core.validation import (
    INT32_MAX, INT64_MAX, Body, Code, ConfigTime, Int, MoneyOrZero, Query, Text, unprocessable,
)

MAX_ENTITLEMENTS = 50
MAX_TIERS = 1000
# Fields of a tier that `null` clears: the price (the tier is then not for sale) and the qualification
# (the tier is then not reached by activity). Any other field left null keeps its value.
CLEARABLE = frozenset({"purchase_points", "qualification"})


class TierPurchaseIn(Body):
    """Idempotent on (member, purchase_no)."""

    tier: Code(description="The tier to buy")
    purchase_no: Text(64, description="The caller's number for this purchase, for safe retries")


class TierFloorIn(Body):
    tier: Code(description="The lowest tier the member keeps until expires_at")
    expires_at: ConfigTime


class QualificationIn(Body):
    """The minimum of each criterion over the qualification window; criteria left out do not count.
    How they combine is the tier's qualification_mode."""

    points: Int(0, INT64_MAX, description="Points earned in the window") | None = None
    spend: MoneyOrZero | None = None
    nights: Int(0, INT32_MAX, description="Nights stayed in the window") | None = None
    stays: Int(0, INT32_MAX, description="Stays in the window") | None = None

    def stored(self) -> dict:
        """As tiers.qualification keeps it: spend as a decimal string, the others as integers."""
        values = {}
        for name in ("points", "spend", "nights", "stays"):
            value = getattr(self, name)
            if value is not None:
                values[name] = format_cents(value) if name == "spend" else value
        return values


class TierChangeIn(Body):
    """The fields of a tier that may change; those left out keep their value. `null` clears
    purchase_points (not for sale) and qualification (not reached by activity). A tier's code never
    changes: members' history, promotions and rewards name it."""

    name: Text(100) | None = None
    multiplier: DecimalText(100, 3, "1.5") | None = None
    discount_rate: Rate | None = None
    entitlements: list[Text(200)] | None = Field(None, max_length=MAX_ENTITLEMENTS)
    qualification: QualificationIn | None = None
    qualification_mode: Literal["any", "all"] | None = Field(
        None, description="any: one criterion reached is enough; all: every criterion named is needed")
    purchase_points: Int(1, INT64_MAX, description="What a member of a lower tier pays to move up to "
                                                   "this one; null: not for sale") | None = None

    def values(self) -> dict:
        """The given fields as column values."""
        values = self.given(CLEARABLE)
        if "qualification" in values:
            values["qualification"] = values["qualification"].stored() if values["qualification"] is not None else {}
        return values


class TierIn(TierChangeIn):
    """A new tier. It goes directly above the tier named by `above`, or at the top when left out."""

    code: Code(description="Cannot change once created")
    name: Text(100)
    above: Code(description="The tier in use just below the new one; left out: the new tier is the "
                            "highest") | None = None


class TierOrderIn(Body):
    """Every tier in use, lowest first: the entry tier first, the top tier last."""

    codes: list[Code()] = Field(..., min_length=1, max_length=MAX_TIERS)

    @model_validator(mode="after")
    def _no_repeats(self):
        seen = set()
        for index, code in enumerate(self.codes):
            if code in seen:
                raise unprocessable(f"codes[{index}]", f"repeats {code}")
            seen.add(code)
        return self


class TierPath(Query):
    code: Code(description="Tier code")
