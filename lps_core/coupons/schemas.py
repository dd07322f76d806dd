"""Input schemas of the coupons API: a coupon type, an issue to members, a multiplier applied to a
bill, and the path naming a coupon. Rules that need the database (unknown outlets, members or bills,
a used coupon) are checked by the services and answer 422, 404 or 409."""
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import field_validator, model_validator

from lps_core.coupons.models import KINDS, ON_REFUND, RETURN
from lps_core.coupons.services import MAX_MEMBERS_PER_ISSUE, TypeSpec
from lps_core.validation import Body, Code, Field, Id, Int, Money, Query, Text, invalid, unprocessable


DECIMAL = r"^[0-9]{1,3}(\.[0-9]{1,2})?$"  # a percent or a multiplier: up to 3 digits, 2 decimals


class CouponTypeIn(Body):
    code: Code(32, description="The type's own code, e.g. BDAY50")
    name: Text(100)
    kind: Literal[KINDS]
    value: Money | None = Field(None, description="amount: the amount off; item: the most the free item is worth")
    percent: str | None = Field(None, pattern=DECIMAL, description="percent: the share off, e.g. \"10\" (0.01 to 100)")
    sku: Text(64) | None = Field(None, description="item: the SKU given free")
    multiplier: str | None = Field(None, pattern=DECIMAL,
                                   description="multiplier: the factor on the bill's points, e.g. \"2\" (1.01 to 100)")
    valid_from: date | None = None
    valid_to: date | None = Field(None, description="Included; or give valid_days")
    valid_days: Int(1, 3660, description="Days from issue, the day of issue included") | None = None
    min_spend: Money | None = None
    outlets: list[Code(32)] = Field(default_factory=list, description="Outlet codes; empty: every outlet")
    uses: Int(1, 1000, description="Uses of each coupon") = 1
    active: bool = True
    on_refund: Literal[ON_REFUND] = Field(RETURN, description="A refund of the bill a coupon was used on: "
                                          "return (the use comes back), return_unexpired (only while the "
                                          "coupon is valid), forfeit (the use stays taken)")

    @field_validator("valid_from", "valid_to", mode="before")
    @classmethod
    def _date(cls, value):
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise invalid("must be a date such as 2026-12-31") from None

    @model_validator(mode="after")
    def _in_range(self):
        """The shape is the pattern's (400); a number of that shape outside its range is 422."""
        for name, low in (("percent", Decimal("0.01")), ("multiplier", Decimal("1.01"))):
            value = getattr(self, name)
            if value is not None and not low <= Decimal(value) <= 100:
                raise unprocessable(name, f"must be from {low} to 100, with at most 2 decimals")
        return self

    def spec(self) -> TypeSpec:
        return TypeSpec(self.code, self.name, self.kind, value_cents=self.value,
                        percent=Decimal(self.percent) if self.percent else None, sku=self.sku,
                        multiplier=Decimal(self.multiplier) if self.multiplier else None, valid_from=self.valid_from,
                        valid_to=self.valid_to, valid_days=self.valid_days, min_spend_cents=self.min_spend or 0,
                        outlets=tuple(self.outlets), uses=self.uses, active=self.active,
                        on_refund=self.on_refund)


class CouponIssueIn(Body):
    coupon_type: Code(32)
    member_ids: list[Id] = Field(min_length=1, max_length=MAX_MEMBERS_PER_ISSUE)
    source_ref: Text(100) = Field("", description="The same type, members and source_ref issue nothing twice")


class CouponApplyIn(Body):
    bill_no: Text(64)


class CouponPath(Query):
    code: Text(40)
