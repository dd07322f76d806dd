"""The programme's earning configuration for one process: rule versions, promotions and tiers (cached),
the expiry policy, the bounds on one posting (back-dating, ceilings per bill) and the time zone that
weekdays and periods are counted in (lps.timezone)."""
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from lps_core.components import ITierLookup
from lps_core.earning.models import Bill
from lps_core.earning.limits import PostingLimits
from lps_core.earning.pipeline import ROUNDING_STRATEGIES
from lps_core.earning.promotions import PromotionBook, awarded_in_period
from lps_core.earning.rules import RuleBook
from lps_core.errors import ConfigurationError
from lps_core.expiry.policy import ExpiryPolicy
from lps_core.outlets.models import Outlet
from lps_core.tiers.lookup import TierLookup


@dataclass
class Programme:
    rules: RuleBook
    promotions: PromotionBook
    tiers: ITierLookup
    expiry: ExpiryPolicy
    timezone: ZoneInfo | timezone
    settings: dict  # the app settings, for the tier model and lifecycle settings
    limits: PostingLimits = field(default_factory=PostingLimits)
    rounding: str = "once"  # lps.earning.rounding: once at the end of the chain, or per_step

    @classmethod
    def from_settings(cls, settings) -> "Programme":
        name = settings.get("lps.timezone") or "UTC"
        try:
            tz = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"lps.timezone {name!r} is not a known time zone (e.g. Asia/Shanghai)") from None
        cache = float(settings.get("lps.rules.cache_seconds", 5))
        rounding = str(settings.get("lps.earning.rounding") or "once").strip()
        if rounding not in ROUNDING_STRATEGIES:
            raise ConfigurationError(f"lps.earning.rounding must be one of {', '.join(ROUNDING_STRATEGIES)}, "
                                     f"not {rounding!r}")
        return cls(RuleBook(cache), PromotionBook(cache), TierLookup(settings, cache), ExpiryPolicy.from_settings(settings), tz,
                   settings, PostingLimits.from_settings(settings), rounding)

    def period_start(self, period, moment: datetime) -> datetime | None:
        """The start (as UTC) of the day, month or year holding `moment` in the programme's time zone."""
        local = moment.astimezone(self.timezone)
        if period == "day":
            start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        elif period == "month":
            start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        elif period == "year":
            start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        else:
            return None
        return start.astimezone(timezone.utc)


class MemberFacts:
    """What the pipeline asks about a member's history, read only when a rule or promotion needs it."""

    def __init__(self, db, programme: Programme, member_id):
        self.db, self.programme, self.member_id = db, programme, member_id

    def period_spend_cents(self, period, moment):
        return int(self.db.scalar(
            select(func.coalesce(func.sum(Bill.amount_cents), 0))
            .where(Bill.member_id == self.member_id, Bill.occurred_at >= self.programme.period_start(period, moment),
                   Bill.occurred_at <= moment)
        ))

    def is_first_bill(self, promotion):
        query = select(Bill.id).where(Bill.member_id == self.member_id)
        if promotion.outlets:
            query = query.join(Outlet, Outlet.id == Bill.outlet_id).where(Outlet.code.in_(promotion.outlets))
        return self.db.scalar(query.limit(1)) is None

    def awarded(self, promotion, moment):
        return awarded_in_period(self.db, promotion, self.member_id,
                                 self.programme.period_start(promotion.cap_period, moment))
