"""Input schemas of cards: a card number or card type code in a path, the ledger's query, card type
configuration (API and configuration screen), and the bodies of a card's status, replacement, PIN and
renewal. Rules the document cannot state (an unknown outlet, a repeated override, dates that must
follow each other on the stored card type) are checked after the fields, and answer 422."""
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, PlainValidator, WithJsonSchema, model_validator

from lps_core.cards.lifecycle import STAFF_STATUSES
from lps_core.cards.services import normalize_card_no
from lps_core.errors import Unprocessable, ValidationFailed
from lps_core.ledger.models import POINTS, STORED_VALUE
from lps_core.money import format_cents
from lps_core.validation import (
    Body,
    Code,
    ConfigTime,
    Field,
    Int,
    LenientQuery,
    Money,
    MoneyOrZero,
    Query,
    Text,
    invalid,
    unprocessable,
)

MAX_LIST = 100
MAX_USES = 100_000
MAX_VALIDITY_DAYS = 36_600
REASON_MAX = 200
# Optional card type fields that `null` clears on a change; for the others `null` means "left out".
CLEARABLE = frozenset({"initial_uses", "uses_outlets", "credit_limit", "validity_days", "valid_from", "valid_to",
                       "partner", "serial_from", "serial_to", "membership_fee", "membership_months",
                       "membership_reminder_days"})
MAX_SERIAL = 10**14 - 1  # a 16-digit number: at least a 1-digit prefix and the check digit
MAX_MEMBERSHIP_MONTHS = 120
MAX_REMINDER_DAYS = 365

# A card number as typed: 8 to 32 digits, with the spaces and dashes printed on the card. Its check
# digit is not in the pattern: a mistyped number is well formed, and names no card.
CARD_NUMBER_PATTERN = r"^[ -]*([0-9][ -]*){8,32}$"
_CARD_NUMBER = re.compile(r"[ -]*(?:[0-9][ -]*){8,32}\Z")



def _card_number(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("must be a string")
    if len(value) > 40 or not _CARD_NUMBER.match(value):
        raise invalid("must be a card number: 8 to 32 digits (spaces and dashes are ignored)")
    return value


def _path_card_no(value: Any) -> str:
    """A card number in a path, normalised (digits only, check digit verified): anything else names no
    card, and read_path answers it with 404."""
    try:
        return normalize_card_no(_card_number(value))
    except ValidationFailed as exc:
        raise invalid(next(iter(exc.fields.values()), exc.message)) from None


_CARD_NUMBER_SCHEMA = {"type": "string", "maxLength": 40, "pattern": CARD_NUMBER_PATTERN,
                       "description": "Card number with its check digit; spaces and dashes are ignored"}
CardNo = Annotated[str, PlainValidator(_card_number), WithJsonSchema(_CARD_NUMBER_SCHEMA)]
PathCardNo = Annotated[str, PlainValidator(_path_card_no), WithJsonSchema(_CARD_NUMBER_SCHEMA)]


def card_no_named(raw: str | None, field="card_no") -> str | None:
    """A well-formed card number in a body, normalised; a wrong check digit names no card (422)."""
    if raw is None:
        return None
    try:
        return normalize_card_no(raw, field)
    except ValidationFailed as exc:
        raise Unprocessable(exc.message, exc.fields) from None


def DecimalText(maximum: int, places: int, example: str):  # noqa: N802 (a type)
    """A decimal string from 0 to `maximum` (1, 10, 100...) with at most `places` decimals ("0.15");
    never a JSON number. The pattern is the whole rule, so the document and the check cannot disagree."""
    digits = len(str(maximum)) - 1
    if maximum != 10 ** digits:
        raise ValueError(f"DecimalText needs a power of ten as its maximum, not {maximum}")
    below = f"(0|[1-9][0-9]{{0,{digits - 1}}})" if digits else "0"
    pattern = rf"^({maximum}(\.0{{1,{places}}})?|{below}(\.[0-9]{{1,{places}}})?)$"
    exact = re.compile(pattern[1:-1] + r"\Z")
    shaped = re.compile(r"[0-9]{1,8}(?:\.([0-9]{1,12}))?\Z")
    spelled = f'must be a decimal string such as "{example}"'

    def check(value: Any) -> Decimal:
        if not isinstance(value, str):
            raise invalid(spelled + (" (a string, not a JSON number)" if isinstance(value, (int, float)) else ""))
        if exact.match(value):
            return Decimal(value)
        shape = shaped.match(value)
        if shape is None:
            raise invalid(spelled)
        if shape.group(1) and len(shape.group(1)) > places:
            raise invalid(f"must have at most {places} decimal places")
        raise invalid(f"must be from 0 to {maximum}")
    return Annotated[Decimal, PlainValidator(check), WithJsonSchema(
        {"type": "string", "pattern": pattern, "example": example,
         "description": f"A decimal from 0 to {maximum} with at most {places} decimal places"})]


Rate = DecimalText(1, 4, "0.15")


def _check_prefix(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,8}", value):
        raise invalid("must be 1 to 8 digits")
    return value


Prefix = Annotated[str, PlainValidator(_check_prefix), WithJsonSchema(
    {"type": "string", "pattern": "^[0-9]{1,8}$", "description": "Digits new card numbers start with"})]


def _check_pin(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4,6}", value):
        raise invalid("must be 4 to 6 digits")
    return value


Pin = Annotated[str, PlainValidator(_check_pin), WithJsonSchema({"type": "string", "pattern": "^[0-9]{4,6}$"})]


# --- Card types -----------------------------------------------------------------------------------

class DiscountOverrideIn(Body):
    """A discount rate for one outlet, one item category, or both."""

    model_config = ConfigDict(json_schema_extra={
        "anyOf": [{"required": ["outlet"], "properties": {"outlet": {"type": "string"}}},
                  {"required": ["category"], "properties": {"category": {"type": "string"}}}]})

    outlet: Code() | None = None
    category: Text(64) | None = None
    rate: Rate

    @model_validator(mode="after")
    def _names_where(self):
        if self.outlet is None and self.category is None:
            raise invalid("needs an outlet, a category or both")
        return self

    def stored(self) -> dict:
        return {key: value for key, value in (("outlet", self.outlet), ("category", self.category))
                if value is not None} | {"rate": decimal_text(self.rate)}


class DepositBonusIn(Body):
    """A deposit of at least `min_deposit` earns `bonus` of bonus stored value."""

    min_deposit: Money
    bonus: Money


class CardTypeChangeIn(Body):
    """The fields of a card type that may change; those left out keep their value. `null` clears the
    optional ones (initial_uses, uses_outlets, credit_limit, validity_days, valid_from, valid_to) and
    leaves the others as they are."""

    name: Text(100) | None = None
    prefix: Prefix | None = None
    points_multiplier: DecimalText(100, 3, "1.5") | None = None
    discount_rate: Rate | None = None
    discount_overrides: list[DiscountOverrideIn] | None = Field(None, max_length=MAX_LIST)
    stored_value: bool | None = None
    deposit_bonuses: list[DepositBonusIn] | None = Field(None, max_length=MAX_LIST)
    initial_uses: Int(1, MAX_USES) | None = None
    uses_outlets: list[Code()] | None = Field(None, min_length=1, max_length=MAX_LIST,
                                              description="Outlets where uses count; null: every outlet")
    credit_limit: MoneyOrZero | None = None
    credit_warning_ratio: DecimalText(1, 3, "0.8") | None = None
    validity_days: Int(1, MAX_VALIDITY_DAYS) | None = None
    valid_from: ConfigTime | None = None
    valid_to: ConfigTime | None = None
    anonymous: bool | None = None
    pin_required: bool | None = None
    active: bool | None = None
    partner: Code(description="Co-branded: the partner (a property of kind partner) that funds the type's "
                              "discount and points multiplier; null: not co-branded") | None = None
    serial_from: Int(1, MAX_SERIAL, description="The type's own number range: its first serial after "
                                                "the prefix; null (with serial_to): the prefix's whole range") | None = None
    serial_to: Int(1, MAX_SERIAL, description="The last serial of the type's own number range") | None = None
    membership_fee: Money | None = Field(None, description="Paid membership: the fee for membership_months of "
                                                           "validity; null: not sold for a fee")
    membership_months: Int(1, MAX_MEMBERSHIP_MONTHS, description="Paid membership: months one fee buys") | None = None
    membership_reminder_days: Int(1, MAX_REMINDER_DAYS, description="Paid membership: remind the member this many "
                                                                     "days before it ends; null: no reminder") | None = None

    @model_validator(mode="after")
    def _no_repeats(self):
        seen = set()
        for index, override in enumerate(self.discount_overrides or ()):
            if (override.outlet, override.category) in seen:
                where = " and ".join(f"{key} {value}" for key, value in (("outlet", override.outlet),
                                                                        ("category", override.category)) if value)
                raise unprocessable(f"discount_overrides[{index}]", f"repeats the override for {where}")
            seen.add((override.outlet, override.category))
        minimums = set()
        for index, step in enumerate(self.deposit_bonuses or ()):
            if step.min_deposit in minimums:
                raise unprocessable(f"deposit_bonuses[{index}].min_deposit",
                                    f"repeats min_deposit {format_cents(step.min_deposit)}")
            minimums.add(step.min_deposit)
        return self

    def values(self) -> dict:
        """The given fields as column values (credit_limit as credit_limit_cents, lists as stored)."""
        values = self.given(CLEARABLE)
        if "discount_overrides" in values:
            values["discount_overrides"] = [override.stored() for override in values["discount_overrides"]]
        if "deposit_bonuses" in values:
            values["deposit_bonuses"] = [
                {"min_deposit": format_cents(step.min_deposit), "bonus": format_cents(step.bonus)}
                for step in sorted(values["deposit_bonuses"], key=lambda step: step.min_deposit)]
        if values.get("uses_outlets") is not None:
            values["uses_outlets"] = sorted(set(values["uses_outlets"]))
        if "credit_limit" in values:
            values["credit_limit_cents"] = values.pop("credit_limit")
        if "membership_fee" in values:
            values["membership_fee_cents"] = values.pop("membership_fee")
        return values


class CardTypeIn(CardTypeChangeIn):
    """A new card type (product). Fields left out take their defaults."""

    code: Code(description="Cannot change once created")
    name: Text(100)
    prefix: Prefix


class CardTypePath(Query):
    code: Code(description="Card type code")


# --- A card's life ----------------------------------------------------------------------------------

class CardPath(Query):
    card_no: PathCardNo


class LedgerQuery(LenientQuery):
    account: Literal[POINTS, STORED_VALUE] = POINTS
    page: Int(1, 100_000) = 1
    per_page: Int(1, 200) = 50


class AnonymousSaleIn(Body):
    card_type: Code(description="An anonymous card type")
    pin: Pin
    card_no: CardNo | None = Field(None, description="An unissued pool card to sell; default: the pool's oldest")


class StatusChangeIn(Body):
    status: Literal[STAFF_STATUSES]
    reason: Text(REASON_MAX)


class ReplacementIn(Body):
    reason: Text(REASON_MAX)
    card_no: CardNo | None = Field(None, description="An unissued pool card of the same type to use")


class PinChangeIn(Body):
    pin: Pin
    old_pin: Pin | None = Field(None, description="The current PIN; needed unless `reset`")
    reset: bool = Field(False, description="Staff reset: no old PIN, lifts the lock-out")


class RenewalIn(Body):
    """Exactly one of `valid_to` and `days`."""

    model_config = ConfigDict(json_schema_extra={
        "oneOf": [{"required": ["valid_to"], "properties": {"valid_to": {"type": "string"}}},
                  {"required": ["days"], "properties": {"days": {"type": "integer"}}}]})

    valid_to: ConfigTime | None = None
    days: Int(1, MAX_VALIDITY_DAYS, description="From the current end, or from now if it has ended") | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.valid_to is None) == (self.days is None):
            raise ValidationFailed("give exactly one of valid_to and days",
                                   {"valid_to": "give exactly one of valid_to and days",
                                    "days": "give exactly one of valid_to and days"})
        return self


def decimal_text(value) -> str | None:
    """A decimal as the shortest exact string: 0.1500 -> "0.15", 1.000 -> "1"."""
    return format(Decimal(value).normalize(), "f") if value is not None else None
