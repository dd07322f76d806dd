"""Input schemas of earning: a bill posted by a till, its reversal, a preview, and the earning
configuration (rule versions of an outlet, promotions) of the API and the configuration screens.

Rules and promotions carry free-form parameters (a formula plugin's, a promotion kind's). They are
bounded here (properties, nesting, text length, number size) and then checked by their owner: the
formula plugin's validate_params, or the promotion kind's; what those refuse is well formed,
so it answers 422 naming `formula_params` or `params`."""
import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import PlainValidator, WithJsonSchema, field_validator, model_validator

from lps_core.builtin import promotion_kinds as builtin_promotion_kinds
from lps_core.cards.schemas import CardNo, DecimalText, card_no_named
from lps_core.contract import BillLine
from lps_core.earning.promotions import CAP_PERIODS, LIST_FIELDS, STACKING
from lps_core.earning.rules import BAND_BASES, BAND_PERIODS, ROUNDINGS
from lps_core.earning.services import EarnRequest
from lps_core.errors import Unprocessable
from lps_core.money import format_cents
from lps_core.plugins import PluginError
from lps_core.validation import (
    Body,
    Code,
    ConfigTime,
    Field,
    Id,
    Int,
    Money,
    MoneyOrZero,
    PostingTime,
    Quantity,
    Query,
    Text,
    invalid,
    unprocessable,
)

MAX_ITEMS = 500
MAX_BANDS = 50
MAX_CODES = 100
MAX_POINTS = 10**12
MAX_PRIORITY = 10_000
# Free-form parameters: at most this many names per object, this deep, this long a text, this large a number.
MAX_PARAMS = 32
MAX_PARAM_DEPTH = 3
MAX_PARAM_TEXT = 200
MAX_PARAM_NAME = 64
MAX_PARAM_LIST = 100
MAX_PARAM_NUMBER = 10**12


class BillItemIn(Body):
    sku: Text(64)
    category: Text(64) | None = None
    qty: Quantity = 1
    amount: MoneyOrZero = Field(description="The line's total")

    def line(self) -> BillLine:
        return BillLine(self.sku, self.category or "", self.qty, self.amount)


class BillIn(Body):
    """What a bill and a preview of one share: the amount, when, the lines, and the card's check digit."""

    amount: Money
    occurred_at: PostingTime | None = None
    items: list[BillItemIn] | None = Field(None, max_length=MAX_ITEMS)

    @field_validator("card_no", check_fields=False)
    @classmethod
    def check_digit(cls, card_no):
        return card_no_named(card_no)

    @model_validator(mode="after")
    def items_within_amount(self):
        if self.items and sum(item.amount for item in self.items) > self.amount:
            raise unprocessable("items", "add up to more than the bill amount")
        return self

    def lines(self) -> tuple[BillLine, ...]:
        return tuple(item.line() for item in self.items or ())


class TransactionIn(BillIn):
    """A bill to earn points for. Idempotent on (outlet, bill_no)."""

    card_no: CardNo
    bill_no: Text(64)

    def earn_request(self) -> EarnRequest:
        return EarnRequest(self.card_no, self.bill_no, self.amount, self.occurred_at, self.lines())


class ReversalIn(Body):
    """Without `amount`, refunds what is left; a `refund_no` makes a partial refund safe to retry."""

    amount: Money | None = None
    refund_no: Text(64) | None = None


class TransactionPath(Query):
    id: Id


class PreviewIn(BillIn):
    """A hypothetical bill: the points it would earn, computed as earning would, posting nothing. With
    `card_no`, for that card's member (their tier, card type and history); without, for a member of
    `tier` holding a card of `card_type` (both optional)."""

    outlet: Code(description="Default: the key's outlet") | None = None
    card_no: CardNo | None = Field(None, description="A real member's card: their tier, card type, history")
    tier: Code() | None = None
    card_type: Code() | None = None

    def earn_request(self) -> EarnRequest:
        """The bill as earning takes it; a preview needs no bill or card number to post."""
        return EarnRequest("preview", "preview", self.amount, self.occurred_at, self.lines())


# --- Free-form parameters -------------------------------------------------------------------------


def _check_param(value: Any, depth: int, where: str):
    """A parameter value: text, a number, true/false, null, or (while `depth` allows) a list or an
    object of such values. Returns it unchanged."""
    prefix = f"{where}: " if where else ""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > MAX_PARAM_TEXT:
            raise invalid(f"{prefix}must be at most {MAX_PARAM_TEXT} characters")
        if "\x00" in value:
            raise invalid(f"{prefix}must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid(f"{prefix}must be valid Unicode text (it holds a lone surrogate)") from None
        if _spelled_as_huge_number(value):
            raise invalid(f"{prefix}must be a plain decimal such as \"1.5\": no exponent, NaN or Infinity")
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value) or abs(value) > MAX_PARAM_NUMBER:
            raise invalid(f"{prefix}must be a number from -{MAX_PARAM_NUMBER} to {MAX_PARAM_NUMBER}")
        return value
    if isinstance(value, (list, dict)) and depth <= 0:
        raise invalid(f"{prefix}nests too deep (at most {MAX_PARAM_DEPTH} levels)")
    if isinstance(value, list):
        if len(value) > MAX_PARAM_LIST:
            raise invalid(f"{prefix}must have at most {MAX_PARAM_LIST} items")
        return [_check_param(item, depth - 1, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        return _check_object(value, depth, where)
    raise invalid(f"{prefix}must be text, a number, true, false, null, a list or an object")


def _spelled_as_huge_number(text: str) -> bool:
    """A number in text that plugins would read as a Decimal of any size ("1e300000", "NaN")."""
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return False
    return not number.is_finite() or "e" in text.lower()


def _check_object(value: dict, depth: int, where: str) -> dict:
    if len(value) > MAX_PARAMS:
        raise invalid(f"{where + ': ' if where else ''}must have at most {MAX_PARAMS} names")
    checked = {}
    for name, item in value.items():
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_PARAM_NAME or "\x00" in name:
            raise invalid(f"{where + ': ' if where else ''}names must be 1 to {MAX_PARAM_NAME} characters")
        checked[name] = _check_param(item, depth - 1, f"{where}.{name}" if where else name)
    return checked


def _check_params(value: Any) -> dict:
    if not isinstance(value, dict):
        raise invalid("must be an object")
    return _check_object(value, MAX_PARAM_DEPTH, "")


def _param_schema(depth: int) -> dict:
    scalars = [{"type": "string", "maxLength": MAX_PARAM_TEXT, "pattern": "^[^\\x00]*$"},
               {"type": "number", "minimum": -MAX_PARAM_NUMBER, "maximum": MAX_PARAM_NUMBER},
               {"type": "boolean"}, {"type": "null"}]
    if depth > 0:
        inner = _param_schema(depth - 1)
        scalars += [{"type": "array", "maxItems": MAX_PARAM_LIST, "items": inner}, _object_schema(inner)]
    return {"anyOf": scalars}


def _object_schema(values: dict) -> dict:
    return {"type": "object", "maxProperties": MAX_PARAMS,
            "propertyNames": {"minLength": 1, "maxLength": MAX_PARAM_NAME, "pattern": "^[^\\x00]*$"},
            "additionalProperties": values}


# An object of parameters: names of 1 to 64 characters, values text (at most 200 characters), numbers
# (at most 10^12 either way), true/false, null, or lists and objects of them, nested at most 3 deep.
Params = Annotated[dict, PlainValidator(_check_params), WithJsonSchema({
    **_object_schema(_param_schema(MAX_PARAM_DEPTH - 1)),
    "description": f"Free-form parameters, bounded: at most {MAX_PARAMS} names per object, nested at most "
                   f"{MAX_PARAM_DEPTH} deep, text of at most {MAX_PARAM_TEXT} characters, numbers of at most "
                   f"{MAX_PARAM_NUMBER}"})]


# --- Earning rules --------------------------------------------------------------------------------

Multiplier = DecimalText(100, 4, "1.5")


class BandIn(Body):
    """Spend from `from` (inclusive) up to `to` (exclusive; left out or null: no upper end)."""

    from_: MoneyOrZero = Field("0", alias="from", validate_default=True)
    to: Money | None = Field(None, description="Exclusive; null: no upper end")
    multiplier: Multiplier


class RuleIn(Body):
    """A new version of an outlet's earning rule. Fields left out keep the current version's values
    (an outlet's first version needs `formula`); `null` clears band_period, max_points_per_bill and
    note. `formula_params` are checked by the formula plugin."""

    formula: Code(64, description="An installed formula plugin, such as base_rate") | None = None
    formula_params: Params | None = None
    bands: list[BandIn] | None = Field(None, max_length=MAX_BANDS)
    band_basis: Literal[BAND_BASES] | None = None
    band_period: Literal[BAND_PERIODS] | None = Field(None, description="Needed when band_basis is period_spend")
    rounding: Literal[ROUNDINGS] | None = None
    max_points_per_bill: Int(1, MAX_POINTS) | None = None
    effective_from: ConfigTime | None = Field(None, description="Default: now (an outlet's first version: always)")
    note: Text(500) | None = None

    @model_validator(mode="after")
    def _bands_in_order(self):
        bands = sorted(self.bands or (), key=lambda band: band.from_)
        for index, band in enumerate(self.bands or ()):
            if band.to is not None and band.to <= band.from_:
                raise unprocessable(f"bands[{index}].to", f"ends ({format_cents(band.to)}) before it starts "
                                                          f"({format_cents(band.from_)})")
        for band, following in zip(bands, bands[1:]):
            if band.to is None or band.to > following.from_:
                raise unprocessable("bands", f"overlap at {format_cents(following.from_)}")
        return self

    def clean(self, plugins, partial_of=None) -> dict:
        """The version's column values: the given fields over `partial_of`'s (the current version),
        the formula's parameters as its plugin cleans them. What the plugin refuses is 422."""
        base = partial_of.as_json() if partial_of else {"formula": None, "formula_params": {}, "bands": [],
                                                        "band_basis": "bill", "band_period": None,
                                                        "rounding": "floor", "max_points_per_bill": None}
        given = {name: getattr(self, name) for name in self.model_fields_set}
        if "bands" in given:
            given["bands"] = [{"from": format_cents(band.from_),
                               "to": format_cents(band.to) if band.to is not None else None,
                               "multiplier": str(band.multiplier)}
                              for band in sorted(given["bands"] or (), key=lambda band: band.from_)]
        for name in ("formula", "band_basis", "rounding"):
            if given.get(name, "") is None:
                del given[name]  # null: left out
        merged = {**base, **given}
        if merged["formula"] is None:
            raise unprocessable("formula", "is required for an outlet's first rule version")
        try:
            params = plugins.formula(merged["formula"]).validate_params(merged["formula_params"] or {})
        except PluginError as exc:
            raise unprocessable("formula", str(exc)) from None
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise unprocessable("formula_params", str(exc)) from None
        period_spend = merged["band_basis"] == "period_spend"
        if period_spend and merged["band_period"] is None:
            raise unprocessable("band_period", f"must be one of: {', '.join(BAND_PERIODS)} when band_basis is "
                                               "period_spend")
        return {"formula": merged["formula"], "formula_params": params, "bands": merged["bands"] or [],
                "band_basis": merged["band_basis"], "band_period": merged["band_period"] if period_spend else None,
                "rounding": merged["rounding"], "max_points_per_bill": merged["max_points_per_bill"],
                "effective_from": self.effective_from, "note": self.note}


class OutletPath(Query):
    code: Code(description="Outlet code")


# --- Promotions -------------------------------------------------------------------------------------

Points = Int(1, MAX_POINTS)
# Optional promotion fields that `null` clears on a change; for the others `null` means "left out".
PROMOTION_CLEARABLE = frozenset({*LIST_FIELDS, "weekdays", "exclusive_group", "cap_per_bill", "cap_per_member",
                                 "cap_period", "prize_coupon_type", "prize_count"})
MAX_PRIZE_COUNT = 100
Codes = list[Text(64)] | None
KIND_DESCRIPTION = ("A promotion kind a plugin provides; LPS's own: multiplier, bonus, sku_bonus, first_stay, "
                    "enrolment, referral, coupon (a prize of coupons only, no points)")


def kind_params(kinds, kind_name, params) -> dict:
    """`params` as the kind `kind_name` cleans them; a kind that no plugin provides is 422 naming
    `kind`, parameters the kind refuses 422 naming `params`."""
    kind = kinds.get(kind_name)
    if kind is None:
        installed = ", ".join(sorted(kinds)) or "none"
        raise unprocessable("kind", f"no plugin provides the promotion kind {kind_name!r} (installed: {installed})")
    try:
        return kind.validate_params(params)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise unprocessable("params", str(exc)) from None


class PromotionChangeIn(Body):
    """The fields of a promotion that may change; those left out keep their value, `null` clears the
    optional ones (the lists: "all"; exclusive_group; the caps). `params` are checked by the kind's
    plugin; LPS's own kinds take: multiplier {"multiplier": "2"}; bonus, sku_bonus, enrolment
    {"points"}; first_stay {"points", "min_amount"?}; referral {"levels": [...], "min_amount"?};
    coupon {"min_amount"?}. Any promotion may also give a prize of coupons (`prize_coupon_type`,
    `prize_count`); one of kind coupon gives nothing else."""

    code: Code(32, description="Cannot change; may be repeated") | None = None
    name: Text(200) | None = None
    kind: Code(64, description=KIND_DESCRIPTION) | None = None
    params: Params | None = Field(None, examples=[{"multiplier": "2"}])
    starts_at: ConfigTime | None = None
    ends_at: ConfigTime | None = None
    outlets: Codes = Field(None, min_length=1, max_length=MAX_CODES, description="null: every outlet")
    categories: Codes = Field(None, min_length=1, max_length=MAX_CODES, description="null: every category")
    skus: Codes = Field(None, min_length=1, max_length=MAX_CODES, description="null: every SKU")
    tiers: Codes = Field(None, min_length=1, max_length=MAX_CODES, description="null: every tier")
    card_types: Codes = Field(None, min_length=1, max_length=MAX_CODES, description="null: every card type")
    weekdays: list[Int(1, 7)] | None = Field(None, min_length=1, max_length=7,
                                              description="ISO weekdays, 1 = Monday; null: every day")
    stacking: Literal[STACKING] | None = None
    exclusive_group: Text(32) | None = Field(None, description="Needed when stacking is exclusive")
    priority: Int(-MAX_PRIORITY, MAX_PRIORITY) | None = None
    cap_per_bill: Points | None = None
    cap_per_member: Points | None = None
    cap_period: Literal[CAP_PERIODS] | None = Field(None, description="Needed with cap_per_member")
    prize_coupon_type: Code(32, description="A coupon type's code: the member wins coupons of it on each bill "
                                            "the promotion applies to; null: no prize") | None = None
    prize_count: Int(1, MAX_PRIZE_COUNT, description="How many coupons the prize is (default 1)") | None = None
    active: bool | None = None

    def values(self, existing=None, *, kinds=None) -> dict:
        """The promotion's column values: the given fields over `existing`'s (a PromotionView) or the
        defaults, the parameters as the kind cleans them. `kinds` are the installed promotion kinds
        ({name: IPromotionKind}); without them, LPS's own. What does not fit together is 422 naming
        the field."""
        if kinds is None:
            kinds = {kind.name: kind for kind in builtin_promotion_kinds.KINDS}
        base = existing.as_json() if existing is not None else {
            "stacking": "stack", "priority": 0, "params": {}, "exclusive_group": None, "cap_per_bill": None,
            "cap_per_member": None, "cap_period": None, "prize_coupon_type": None, "prize_count": None,
            **dict.fromkeys((*LIST_FIELDS, "weekdays"))}
        base.pop("id", None)
        if existing is not None:
            base["starts_at"], base["ends_at"] = existing.starts_at, existing.ends_at
        given = self.given(PROMOTION_CLEARABLE)
        if existing is not None and given.get("code", existing.code) != existing.code:
            raise unprocessable("code", "cannot change")
        if existing is None and "active" not in given:
            given["active"] = True
        clean = {**base, **given}
        errors = {}
        try:
            clean["params"] = kind_params(kinds, clean["kind"], clean.get("params") or {})
        except Unprocessable as exc:
            errors.update(exc.fields)
        if clean["ends_at"] <= clean["starts_at"]:
            errors["ends_at"] = "must be after starts_at: the window ends before it starts"
        if clean["stacking"] == "exclusive" and clean["exclusive_group"] is None:
            errors["exclusive_group"] = "is required for exclusive promotions"
        if clean["cap_per_member"] is not None and clean["cap_period"] is None:
            errors["cap_period"] = f"must be one of: {', '.join(CAP_PERIODS)} with cap_per_member"
        errors.update(_prize_errors(clean, given, kinds))
        if errors:
            raise Unprocessable("the promotion's fields do not fit together", errors)
        if clean["stacking"] != "exclusive":
            clean["exclusive_group"] = None
        if clean["cap_per_member"] is None:
            clean["cap_period"] = None
        if clean["prize_coupon_type"] is None:
            clean["prize_count"] = None
        elif clean["prize_count"] is None:
            clean["prize_count"] = 1
        return clean


def _prize_errors(clean, given, kinds) -> dict:
    """A prize's count needs its coupon type; a kind that gives no points of its own (a kind's
    optional attribute `gives_points` is False, as LPS's `coupon`) needs a prize. Whether the type
    exists and is switched on is for save_promotion, which has the database."""
    if clean["prize_coupon_type"] is None and given.get("prize_count") is not None:
        return {"prize_coupon_type": "is required with prize_count"}
    kind = kinds.get(clean["kind"])
    if kind is not None and not getattr(kind, "gives_points", True) and clean["prize_coupon_type"] is None:
        return {"prize_coupon_type": f"is required: a promotion of kind {clean['kind']} gives only its prize"}
    return {}


class PromotionIn(PromotionChangeIn):
    """A new promotion; fields left out take their defaults (stack, priority 0, no caps, every outlet,
    day, product, tier and card type; active)."""

    code: Code(32)
    name: Text(200)
    kind: Code(64, description=KIND_DESCRIPTION)
    params: Params = Field(examples=[{"multiplier": "2"}])
    starts_at: ConfigTime
    ends_at: ConfigTime


class PromotionPath(Query):
    code: Code(32, description="Promotion code")
