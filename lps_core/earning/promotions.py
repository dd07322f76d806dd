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
Multiplier promotions multiply the points after the rule's bands and the tier and card-type
multipliers (so "double points" doubles what the member would otherwise earn)."""
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, insert, select

from lps_core.earning.models import Promotion, PromotionAward
from lps_core.errors import Conflict, NotFound, ValidationFailed
from lps_core.timeutil import as_utc, isoformat, parse_timestamp, utcnow

KINDS = ("multiplier", "bonus", "sku_bonus", "first_stay", "enrolment", "referral")
BILL_KINDS = ("multiplier", "bonus", "sku_bonus", "first_stay")
STACKING = ("stack", "best_of", "exclusive")
CAP_PERIODS = ("day", "month", "year", "promotion")
LIST_FIELDS = ("outlets", "categories", "skus", "tiers", "card_types")
FIELDS = ("code", "name", "kind", "params", "starts_at", "ends_at", "weekdays", "stacking", "exclusive_group",
          "priority", "cap_per_bill", "cap_per_member", "cap_period", "active", *LIST_FIELDS)


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


def clean_promotion(data, *, existing=None) -> dict:
    """Validate a promotion body; every bad field is named. With `existing`, absent fields keep
    their stored values (for PATCH)."""
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", {"body": "must be a JSON object"})
    errors = {name: "is not a known field" for name in set(data) - set(FIELDS)}
    merged = {**(existing.as_json() if existing else {"stacking": "stack", "priority": 0, "params": {},
                                                       "active": True}), **data}
    merged.setdefault("active", True)
    clean = {}
    code = merged.get("code")
    if not isinstance(code, str) or not 1 <= len(code.strip()) <= 32:
        errors["code"] = "is required, at most 32 characters"
    else:
        clean["code"] = code.strip()
    name = merged.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        errors["name"] = "is required, at most 200 characters"
    else:
        clean["name"] = name.strip()
    kind = merged.get("kind")
    if kind not in KINDS:
        errors["kind"] = f"must be one of: {', '.join(KINDS)}"
    else:
        clean["kind"] = kind
        try:
            clean["params"] = _clean_params(kind, merged.get("params") or {})
        except ValueError as exc:
            errors["params"] = str(exc)
    for name in ("starts_at", "ends_at"):
        try:
            clean[name] = parse_timestamp(merged.get(name))
        except ValueError as exc:
            errors[name] = str(exc)
    if "starts_at" in clean and "ends_at" in clean and clean["ends_at"] <= clean["starts_at"]:
        errors["ends_at"] = "must be after starts_at: the window ends before it starts"
    for name in LIST_FIELDS:
        value = merged.get(name)
        if value is not None and (not isinstance(value, list) or not value
                                  or not all(isinstance(v, str) and v for v in value)):
            errors[name] = "must be a non-empty list of codes, or null for all"
        else:
            clean[name] = value
    weekdays = merged.get("weekdays")
    if weekdays is not None and (not isinstance(weekdays, list) or not weekdays
                                 or not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7
                                            for d in weekdays)):
        errors["weekdays"] = "must be a list of ISO weekdays, 1 = Monday to 7 = Sunday, or null for every day"
    else:
        clean["weekdays"] = weekdays
    if merged.get("stacking") not in STACKING:
        errors["stacking"] = f"must be one of: {', '.join(STACKING)}"
    else:
        clean["stacking"] = merged["stacking"]
    group = merged.get("exclusive_group")
    if clean.get("stacking") == "exclusive" and (not isinstance(group, str) or not group):
        errors["exclusive_group"] = "is required for exclusive promotions"
    clean["exclusive_group"] = group if clean.get("stacking") == "exclusive" else None
    priority = merged.get("priority")
    if isinstance(priority, bool) or not isinstance(priority, int):
        errors["priority"] = "must be a whole number"
    else:
        clean["priority"] = priority
    for name in ("cap_per_bill", "cap_per_member"):
        value = merged.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            errors[name] = "must be a positive whole number of points, or null"
        else:
            clean[name] = value
    period = merged.get("cap_period")
    if merged.get("cap_per_member") is not None and period not in CAP_PERIODS:
        errors["cap_period"] = f"must be one of: {', '.join(CAP_PERIODS)} with cap_per_member"
    clean["cap_period"] = period if merged.get("cap_per_member") is not None else None
    if not isinstance(merged.get("active"), bool):
        errors["active"] = "must be true or false"
    else:
        clean["active"] = merged["active"]
    if errors:
        raise ValidationFailed("the promotion has invalid fields", errors)
    return clean


def _clean_params(kind, params):
    if not isinstance(params, dict):
        raise ValueError("must be an object")
    expected = {"multiplier": {"multiplier"}, "bonus": {"points"}, "sku_bonus": {"points"},
                "first_stay": {"points", "min_amount"}, "enrolment": {"points"},
                "referral": {"levels", "min_amount"}}[kind]
    unknown = sorted(set(params) - expected)
    if unknown:
        raise ValueError(f"unknown parameter(s) for {kind}: {', '.join(unknown)}")
    clean = {}
    if kind == "multiplier":
        try:
            multiplier = Decimal(str(params.get("multiplier")))
        except InvalidOperation:
            multiplier = Decimal(0)
        if not multiplier.is_finite() or not 1 < multiplier <= 100:
            raise ValueError("multiplier must be a number above 1 and at most 100, e.g. \"2\" for double points")
        clean["multiplier"] = str(multiplier)
    elif kind == "referral":
        levels = params.get("levels")
        if not isinstance(levels, list) or not 1 <= len(levels) <= 5 or not all(_positive_int(v) for v in levels):
            raise ValueError("levels must list 1 to 5 positive point amounts: the referrer's, then their referrer's...")
        clean["levels"] = levels
    else:
        if not _positive_int(params.get("points")):
            raise ValueError("points must be a positive whole number")
        clean["points"] = params["points"]
    if "min_amount" in params:
        from lps_core.money import format_cents, parse_amount

        clean["min_amount"] = format_cents(parse_amount(params["min_amount"], allow_zero=True))
    return clean


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


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


def awarded_in_period(db, promotion, member_id, period_start) -> int:
    query = select(func.coalesce(func.sum(PromotionAward.points), 0)).where(
        PromotionAward.promotion_id == promotion.id, PromotionAward.member_id == member_id)
    if period_start is not None:
        query = query.where(PromotionAward.occurred_at >= period_start)
    return int(db.scalar(query))


def record_awards(db, awards):
    if awards:
        db.execute(insert(PromotionAward.__table__), awards)
