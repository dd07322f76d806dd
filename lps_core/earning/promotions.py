"""Promotions: validation, which ones apply to a bill, and how they combine.

How promotions combine (documented in docs/earning-rules.md):
- every promotion whose window, outlets, tiers, card types, weekdays and products match the bill
  is a candidate, with the bonus it would give on its own (after its cap per bill and what is
  left of its cap per member and period);
- `stack` candidates all apply;
- of the `best_of` candidates only the one with the largest bonus applies;
- of the `exclusive` candidates only one per exclusive_group applies: the highest priority,
  then the largest bonus;
- the winners are applied in order of priority (highest first), then code, each a breakdown step.
What a promotion gives is its kind's (lps_core.contract.IPromotionKind, provided by plugins; LPS's
own are in lps_core.builtin.promotion_kinds). A promotion of a kind that no plugin provides, or
that is switched off at the bill's outlet, does not apply there. Multiplier promotions multiply the
points after the rule's bands and the tier and card-type multipliers (so "double points" doubles
what the member would otherwise earn).

A promotion may also give coupons (its `prize`), issued when it applies to a bill by
lps_core.coupons.prizes. The prize's coupon type is read with the promotions, in the same statement
and cache, so that a bill that wins a prize costs one INSERT more and a bill that wins none costs
nothing more."""
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, select
from zope.interface import implementer

from lps_core.contract import IPromotion
from lps_core.coupons.models import CouponType
from lps_core.earning.models import Promotion, PromotionAward
from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.timeutil import as_utc, isoformat, utcnow

STACKING = ("stack", "best_of", "exclusive")
CAP_PERIODS = ("day", "month", "year", "promotion")
LIST_FIELDS = ("outlets", "categories", "skus", "tiers", "card_types")


@dataclass(frozen=True)
class Prize:
    """The coupons a promotion gives on a bill it applies to: `count` coupons of the type
    `coupon_type`, whose terms (uses, validity, switched on) are read with the promotion."""

    coupon_type_id: int
    coupon_type: str
    count: int
    uses: int
    valid_from: date | None
    valid_to: date | None
    valid_days: int | None
    active: bool


@implementer(IPromotion)
@dataclass(frozen=True)
class PromotionView:
    id: int
    code: str
    name: str
    kind: str
    params: dict
    starts_at: datetime
    ends_at: datetime
    outlets: tuple | None
    categories: tuple | None
    skus: tuple | None
    tiers: tuple | None
    card_types: tuple | None
    weekdays: tuple | None
    stacking: str
    exclusive_group: str | None
    priority: int
    cap_per_bill: int | None
    cap_per_member: int | None
    cap_period: str | None
    prize: Prize | None = None

    @property
    def filters_products(self):
        return bool(self.categories or self.skus)

    def line_matches(self, line) -> bool:
        return (not self.categories or line.category in self.categories) and (not self.skus or line.sku in self.skus)

    def as_json(self):
        return {
            "id": self.id, "code": self.code, "name": self.name, "kind": self.kind, "params": self.params,
            "starts_at": isoformat(self.starts_at), "ends_at": isoformat(self.ends_at),
            **{name: list(getattr(self, name)) if getattr(self, name) is not None else None
               for name in (*LIST_FIELDS, "weekdays")},
            "stacking": self.stacking, "exclusive_group": self.exclusive_group, "priority": self.priority,
            "cap_per_bill": self.cap_per_bill, "cap_per_member": self.cap_per_member, "cap_period": self.cap_period,
            "prize_coupon_type": self.prize.coupon_type if self.prize else None,
            "prize_count": self.prize.count if self.prize else None,
        }


def with_prizes():
    """Promotions with their prize's coupon type (None when they give none), in one statement."""
    return select(Promotion, CouponType).outerjoin(CouponType, CouponType.id == Promotion.prize_coupon_type_id)


def view_of(row, coupon_type=None) -> PromotionView:
    """The promotion `row` as kinds and the API see it; `coupon_type` is its prize's type (with_prizes)."""
    def listed(value):
        return tuple(value) if value is not None else None

    prize = None
    if coupon_type is not None:
        prize = Prize(coupon_type.id, coupon_type.code, row.prize_count, coupon_type.uses, coupon_type.valid_from,
                      coupon_type.valid_to, coupon_type.valid_days, coupon_type.active)
    return PromotionView(row.id, row.code, row.name, row.kind, row.params or {}, as_utc(row.starts_at),
                         as_utc(row.ends_at), listed(row.outlets), listed(row.categories), listed(row.skus),
                         listed(row.tiers), listed(row.card_types), listed(row.weekdays), row.stacking,
                         row.exclusive_group, row.priority, row.cap_per_bill, row.cap_per_member, row.cap_period,
                         prize)


def clean_promotion(data: dict, *, existing=None, kinds=None) -> dict:
    """A promotion's values from `data` (an API body or the configuration form's fields), checked by
    lps_core.earning.schemas: malformed fields 400, fields that do not fit together 422. With
    `existing` (a PromotionView), fields left out keep its values. `kinds` are the promotion kinds
    installed ({name: IPromotionKind}, the plugin registry's promotion_kinds); without them, LPS's own."""
    from lps_core.earning.schemas import PromotionChangeIn, PromotionIn
    from lps_core.validation import validate

    model = PromotionChangeIn if existing is not None else PromotionIn
    return validate(model, data, message="the promotion has invalid fields").values(existing, kinds=kinds)


def save_promotion(db, clean, promotion_id=None) -> PromotionView:
    """Create (promotion_id None) or change a promotion from clean_promotion's values; its prize is
    named by the coupon type's code (`prize_coupon_type`)."""
    if promotion_id is None and db.scalar(select(Promotion.id).where(Promotion.code == clean["code"])) is not None:
        raise Conflict(f"promotion {clean['code']!r} already exists", {"code": "is taken"})
    values = {name: value for name, value in clean.items() if name != "prize_coupon_type"}
    current = None if promotion_id is None else db.scalar(select(Promotion.prize_coupon_type_id)
                                                          .where(Promotion.id == promotion_id))
    values["prize_coupon_type_id"] = _prize_type_id(db, clean.get("prize_coupon_type"), current)
    if promotion_id is None:
        promotion_id = db.scalar(insert(Promotion).values(created_at=utcnow(), **values).returning(Promotion.id))
    else:
        row = db.get(Promotion, promotion_id)
        for name, value in values.items():
            setattr(row, name, value)
        db.flush()
    return view_of(*db.execute(with_prizes().where(Promotion.id == promotion_id)).one())


def _prize_type_id(db, code, current_id):
    """The id of the prize's coupon type named `code` (None: no prize); 422 naming
    prize_coupon_type for a type that does not exist, or (when the prize is new or changes) one
    that is switched off or whose validity is over. A promotion keeps a prize whose type was
    switched off since, so that it can still be ended; such a prize is not given."""
    if code is None:
        return None
    coupon_type = db.scalar(select(CouponType).where(CouponType.code == code))
    if coupon_type is None:
        raise Unprocessable(f"coupon type {code!r} does not exist", {"prize_coupon_type": "no such coupon type"})
    if coupon_type.id != current_id:
        if not coupon_type.active:
            raise Unprocessable(f"coupon type {code} is switched off",
                                {"prize_coupon_type": "this coupon type is switched off"})
        if coupon_type.valid_to is not None and coupon_type.valid_to < utcnow().date():
            raise Unprocessable(f"coupon type {code} is no longer valid",
                                {"prize_coupon_type": "this coupon type's validity is over"})
    return coupon_type.id


def get_promotion(db, code) -> PromotionView:
    row = db.execute(with_prizes().where(Promotion.code == code)).one_or_none()
    if row is None:
        raise NotFound(f"promotion {code!r} does not exist", {"code": "no such promotion"})
    return view_of(*row)


def list_promotions(db, *, active_at=None) -> list[PromotionView]:
    query = with_prizes().order_by(Promotion.starts_at, Promotion.code)
    if active_at is not None:
        query = query.where(Promotion.active.is_(True), Promotion.starts_at <= active_at, Promotion.ends_at > active_at)
    return [view_of(*row) for row in db.execute(query)]


class PromotionBook:
    """Active promotions, cached in-process for `cache_seconds`; filtered per bill in Python."""

    def __init__(self, cache_seconds=5.0):
        self.cache_seconds = cache_seconds
        self._cached = (0.0, [])
        self._lock = threading.Lock()

    def forget(self):
        with self._lock:
            self._cached = (0.0, [])

    def active(self, db) -> list[PromotionView]:
        now = time.monotonic()
        if self._cached[0] > now:
            return self._cached[1]
        promotions = [view_of(*row) for row in db.execute(with_prizes().where(Promotion.active.is_(True)))]
        if self.cache_seconds > 0:
            with self._lock:
                self._cached = (now + self.cache_seconds, promotions)
        return promotions

    def on_at(self, db, plugins, outlet_id) -> list[PromotionView]:
        """The active promotions whose kind a plugin provides and is switched on at `outlet_id` (None:
        the programme as a whole). The switches are cached like the promotions, so this costs no query
        on a warm cache."""
        promotions = self.active(db)
        switches = plugins.switches
        on = {kind for kind in {promotion.kind for promotion in promotions}
              if switches.state(db, "promotion_kind", kind, outlet_id).enabled}
        return [promotion for promotion in promotions if promotion.kind in on]


def awarded_in_period(db, promotion, member_id, period_start) -> int:
    query = select(func.coalesce(func.sum(PromotionAward.points), 0)).where(
        PromotionAward.promotion_id == promotion.id, PromotionAward.member_id == member_id)
    if period_start is not None:
        query = query.where(PromotionAward.occurred_at >= period_start)
    return int(db.scalar(query))


def record_awards(db, awards):
    if awards:
        db.execute(insert(PromotionAward.__table__), awards)
