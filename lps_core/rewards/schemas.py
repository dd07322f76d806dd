"""Input schemas of the rewards API and of the desk's rewards screens (the same models): the catalogue
(a new reward, a change, a restock, the list's query), redeeming, cancelling, and the paths naming a
reward or a redemption. Rules needing the database (an unknown tier, a voucher without its validity,
stock) are checked by the services and answer 422 or 409."""
import re
from typing import Annotated, Any, Literal

from pydantic import PlainValidator, WithJsonSchema, field_validator

from lps_core.cards.schemas import CardNo, PathCardNo, card_no_named
from lps_core.rewards.models import CATEGORIES
from lps_core.rewards.services import RedeemRequest, redemption_no
from lps_core.validation import (
    INT32_MAX,
    Body,
    ConfigTime,
    Field,
    Int,
    LenientQuery,
    MoneyOrZero,
    Query,
    Text,
    invalid,
)

MAX_QUANTITY = 99
MAX_VOUCHER_DAYS = 3650
MAX_RESTOCK = 10**9
MAX_POINTS_PRICE = 10**12
MAX_TIERS = 50
REASON_MAX = 500
# Optional reward fields that `null` clears on a change; for the others `null` means "left out".
CLEARABLE = frozenset({"points_price", "stock", "available_from", "available_to", "allowed_tiers",
                       "voucher_valid_days"})

Category = Literal[CATEGORIES]
_REWARD_CODE = re.compile(r"[A-Za-z0-9_.-]{1,32}\Z")



def _reward_code(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("must be a string")
    if not _REWARD_CODE.match(value):
        raise invalid("must be 1 to 32 letters, digits, '.', '_' or '-'")
    return value


RewardCode = Annotated[str, PlainValidator(_reward_code), WithJsonSchema(
    {"type": "string", "pattern": r"^[A-Za-z0-9_.-]{1,32}$", "maxLength": 32, "example": "MUG"})]

_REDEMPTION_NO = re.compile(r"[Rr]?([0-9]{1,10})\Z")


def _redemption_no(value: Any) -> str:
    """A redemption number as staff type it (R00000042, r42, 42), as the number it names; anything
    else names no redemption (read_path answers it with 404)."""
    match = _REDEMPTION_NO.match(value.strip()) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(1)) <= INT32_MAX:
        raise invalid("must be a redemption number such as R00000042")
    return redemption_no(int(match.group(1)))


RedemptionNo = Annotated[str, PlainValidator(_redemption_no), WithJsonSchema(
    {"type": "string", "pattern": r"^[Rr]?[0-9]{1,10}$", "example": "R00000042",
     "description": "Redemption number; the R and leading zeros may be left out"})]


# --- The catalogue ----------------------------------------------------------------------------------

class RewardChangeIn(Body):
    """The fields of a reward that may change; those left out keep their value. `null` clears the
    optional ones (points_price, stock, available_from, available_to, allowed_tiers,
    voucher_valid_days) and leaves the others as they are."""

    name: Text(200) | None = None
    category: Category | None = None
    cost: MoneyOrZero | None = Field(None, description="What the reward costs the hotel; the points price "
                                                       "derives from it")
    points_price: Int(1, MAX_POINTS_PRICE, description="Overrides the derived price; null derives it again") \
        | None = None
    stock: Int(0, INT32_MAX, description="Items left; null: unlimited") | None = None
    available_from: ConfigTime | None = None
    available_to: ConfigTime | None = None
    allowed_tiers: list[Text(32)] | None = Field(None, min_length=1, max_length=MAX_TIERS,
                                                 description="Tier codes that may redeem; null: every tier")
    active: bool | None = None
    voucher_valid_days: Int(1, MAX_VOUCHER_DAYS, description="Required for room_night and fnb_voucher: days "
                                                             "an issued voucher is valid") | None = None

    def values(self) -> dict:
        """The given fields as the reward's column values (cost as cost_cents)."""
        values = self.given(CLEARABLE)
        values.pop("code", None)
        if values.get("allowed_tiers") is not None:
            values["allowed_tiers"] = sorted(set(values["allowed_tiers"]))
        if "cost" in values:
            values["cost_cents"] = values.pop("cost")
        return values  # rules across fields (a window that ends before it starts) are the service's


class RewardIn(RewardChangeIn):
    """A new reward; fields left out take their defaults (active, unlimited stock, every tier)."""

    code: RewardCode = Field(description="Cannot change once created")
    name: Text(200)
    category: Category
    cost: MoneyOrZero = Field(description="What the reward costs the hotel; the points price derives from it")


class RestockIn(Body):
    add: Int(1, MAX_RESTOCK, description="Items to add to the stock")


class RewardListQuery(LenientQuery):
    category: Category | None = None
    all: Literal["1", "true"] | None = Field(None, description="Also rewards not available now (scope "
                                                               "rewards.manage)")


class RewardPath(Query):
    code: RewardCode


# --- Redemptions --------------------------------------------------------------------------------------

class RedemptionIn(Body):
    """Idempotent on (outlet, request_no)."""

    card_no: CardNo
    reward: RewardCode = Field(description="Reward code")
    quantity: Int(1, MAX_QUANTITY) = 1
    request_no: Text(64, description="The desk's idempotency key")
    collection: Literal["now", "later"] = Field("now", description="now: collected at the desk; later: awaiting "
                                                                   "pick-up")

    @field_validator("card_no")
    @classmethod
    def check_digit(cls, card_no):
        return card_no_named(card_no)

    def redeem_request(self) -> RedeemRequest:
        return RedeemRequest(self.card_no, self.reward, self.quantity, self.request_no, self.collection == "now")


class CollectionIn(Body):
    """Collecting takes no fields: the body may be left out, or be {}."""


class CancellationIn(Body):
    reason: Text(REASON_MAX)
    force: bool = Field(False, description="Needed to cancel a redemption already collected")


class RedemptionPath(Query):
    no: RedemptionNo


class CardRedemptionsPath(Query):
    card_no: PathCardNo


class RedemptionPageQuery(LenientQuery):
    page: Int(1, 100_000) = 1
    per_page: Int(1, 200) = 50
