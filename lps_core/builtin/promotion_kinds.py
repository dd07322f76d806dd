"""LPS's own promotion kinds, registered through the hook lps_promotion_kinds like a third party's:
multiplier, bonus, sku_bonus and first_stay on bills; enrolment and referral granted by events
(lps_core.earning.bonuses). Their parameters are checked with the API's field types, so a bad one
is named as the API names a bad field."""
from decimal import Decimal

from pydantic import ValidationError, field_validator
from zope.interface import implementer

from lps_core.cards.schemas import DecimalText
from lps_core.contract import IPromotionKind, hookimpl
from lps_core.labels import LABELS
from lps_core.money import format_cents
from lps_core.validation import Body, Field, Int, MoneyOrZero, failure

MAX_POINTS = 10**12
Points = Int(1, MAX_POINTS)
KIND_LABELS = LABELS["promotion kind"]


class MultiplierParams(Body):
    multiplier: DecimalText(100, 4, "2")

    @field_validator("multiplier")
    @classmethod
    def _above_one(cls, multiplier):
        if multiplier <= 1:
            raise ValueError('must be a number above 1 and at most 100, e.g. "2" for double points')
        return multiplier

    def stored(self) -> dict:
        return {"multiplier": str(self.multiplier)}


class PointsParams(Body):
    points: Points

    def stored(self) -> dict:
        return {"points": self.points}


class FirstStayParams(PointsParams):
    min_amount: MoneyOrZero | None = None

    def stored(self) -> dict:
        return {"points": self.points} | _min_amount(self)


class ReferralParams(Body):
    levels: list[Points] = Field(min_length=1, max_length=5, description="The referrer's points, then their "
                                                                         "referrer's...")
    min_amount: MoneyOrZero | None = None

    def stored(self) -> dict:
        return {"levels": list(self.levels)} | _min_amount(self)


def _min_amount(params) -> dict:
    return {"min_amount": format_cents(params.min_amount)} if params.min_amount is not None else {}


def _cleaned(model, params) -> dict:
    """`params` checked by `model`, as stored; a refusal is a ValueError naming each bad parameter."""
    try:
        return model.model_validate(params).stored()
    except ValidationError as exc:
        fields = failure(exc, "").fields
        raise ValueError("; ".join(f"{name} {message}" for name, message in fields.items())) from None


def _big_enough(promotion, bill) -> bool:
    minimum = promotion.params.get("min_amount")
    return minimum is None or bill.amount_cents >= int(Decimal(minimum) * 100)


class _Kind:
    params_model = PointsParams
    on_bill = True

    @property
    def label(self):
        return KIND_LABELS[self.name]

    def validate_params(self, params):
        return _cleaned(self.params_model, params)

    def explain(self, promotion, bonus):
        return f"{promotion.name}: +{bonus}"


@implementer(IPromotionKind)
class Multiplier(_Kind):
    """Multiplies the points so far (of the matching products' share of the bill, when it names some)."""

    name = "multiplier"
    params_model = MultiplierParams

    def evaluate(self, promotion, context):
        bill = context.bill
        share = Decimal(1)
        if promotion.filters_products and bill.amount_cents:
            matching = sum(line.amount_cents for line in bill.items if promotion.line_matches(line))
            share = Decimal(matching) / Decimal(bill.amount_cents)
        return context.as_points(context.points * (Decimal(promotion.params["multiplier"]) - 1) * share)

    def explain(self, promotion, bonus):
        scope = " on matching products" if promotion.filters_products else ""
        return f"{promotion.name}: x{promotion.params['multiplier']}{scope}"


@implementer(IPromotionKind)
class Bonus(_Kind):
    """A fixed number of points per bill."""

    name = "bonus"

    def evaluate(self, promotion, context):
        return promotion.params["points"]


@implementer(IPromotionKind)
class SkuBonus(_Kind):
    """Points per unit of the matching products."""

    name = "sku_bonus"

    def evaluate(self, promotion, context):
        units = sum(line.qty for line in context.bill.items if promotion.line_matches(line))
        return int(units) * promotion.params["points"]


@implementer(IPromotionKind)
class FirstStay(_Kind):
    """Points for the member's first bill at the promotion's outlets, of at least `min_amount`."""

    name = "first_stay"
    params_model = FirstStayParams

    def evaluate(self, promotion, context):
        if not _big_enough(promotion, context.bill) or not context.facts.is_first_bill(promotion):
            return 0
        return promotion.params["points"]


@implementer(IPromotionKind)
class Enrolment(_Kind):
    """Points when a member is approved (while the promotion runs)."""

    name = "enrolment"
    on_bill = False

    def evaluate(self, promotion, context):
        return promotion.params["points"]

    def explain(self, promotion, bonus):
        return f"{promotion.name}: enrolment bonus"


@implementer(IPromotionKind)
class Referral(_Kind):
    """Points for the referrers of a member, up the chain one level per entry of `levels`, when the
    member's bill of at least `min_amount` qualifies."""

    name = "referral"
    params_model = ReferralParams
    on_bill = False

    def evaluate(self, promotion, context):
        levels = promotion.params["levels"]
        if context.level > len(levels) or not _big_enough(promotion, context.bill):
            return 0
        return levels[context.level - 1]

    def explain(self, promotion, bonus):
        return f"{promotion.name}: referral bonus"


KINDS = (Multiplier(), Bonus(), SkuBonus(), FirstStay(), Enrolment(), Referral())


@hookimpl
def lps_promotion_kinds():
    return list(KINDS)
