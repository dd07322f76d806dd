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
what the member would otherwise earn)."""
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from zope.interface import implementer

from lps_core.contract import IPromotion
from lps_core.earning.models import Promotion, PromotionAward
from lps_core.errors import Conflict, NotFound
from lps_core.timeutil import as_utc, isoformat, utcnow

STACKING = ("stack", "best_of", "exclusive")
CAP_PERIODS = ("day", "month", "year", "promotion")
LIST_FIELDS = ("outlets", "categories", "skus", "tiers", "card_types")


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
        }


def view_of(row) -> PromotionView:
    def listed(value):
        return tuple(value) if value is not None else None

    return PromotionView(row.id, row.code, row.name, row.kind, row.params or {}, as_utc(row.starts_at),
                         as_utc(row.ends_at), listed(row.outlets), listed(row.categories), listed(row.skus),
                         listed(row.tiers), listed(row.card_types), listed(row.weekdays), row.stacking,
                         row.exclusive_group, row.priority, row.cap_per_bill, row.cap_per_member, row.cap_period)


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
    if promotion_id is None:
        if db.scalar(select(Promotion.id).where(Promotion.code == clean["code"])) is not None:
            raise Conflict(f"promotion {clean['code']!r} already exists", {"code": "is taken"})
        promotion_id = db.scalar(insert(Promotion).values(created_at=utcnow(), **clean).returning(Promotion.id))
    else:
        row = db.get(Promotion, promotion_id)
        for name, value in clean.items():
            setattr(row, name, value)
        db.flush()
    return view_of(db.get(Promotion, promotion_id))


def get_promotion(db, code) -> PromotionView:
    row = db.scalar(select(Promotion).where(Promotion.code == code))
    if row is None:
        raise NotFound(f"promotion {code!r} does not exist", {"code": "no such promotion"})
    return view_of(row)


def list_promotions(db, *, active_at=None) -> list[PromotionView]:
    query = select(Promotion).order_by(Promotion.starts_at, Promotion.code)
    if active_at is not None:
        query = query.where(Promotion.active.is_(True), Promotion.starts_at <= active_at, Promotion.ends_at > active_at)
    return [view_of(row) for row in db.scalars(query)]


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
        promotions = [view_of(row) for row in db.scalars(select(Promotion).where(Promotion.active.is_(True)))]
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
