"""The programme's earning components for one process, built once from the typed settings: rule
versions and promotions (cached for lps.rules.cache_seconds), the tiers as earning sees them, the
expiry policy, the bounds on one posting, and the time zone that weekdays and periods are counted
in (lps.timezone). Registered as IProgramme; views reach it as request.programme."""
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from lps_core.components import ITierLookup
from lps_core.earning.limits import PostingLimits
from lps_core.earning.promotions import PromotionBook
from lps_core.earning.rules import RuleBook
from lps_core.expiry.policy import ExpiryPolicy
from lps_core.settings import Settings, settings_of
from lps_core.tiers.lookup import TierLookup


@dataclass(frozen=True)
class Programme:
    settings: Settings
    rules: RuleBook
    promotions: PromotionBook
    tiers: ITierLookup
    expiry: ExpiryPolicy
    limits: PostingLimits

    @classmethod
    def from_settings(cls, settings) -> "Programme":
        """The programme of the typed settings, or of a mapping of ini keys (an `lps` command's, a
        test's); a bad value raises ConfigurationError naming the setting."""
        settings = settings_of(settings)
        cache = settings.rules_cache_seconds
        return cls(settings, RuleBook(cache), PromotionBook(cache), TierLookup(settings, cache),
                   ExpiryPolicy.of(settings.expiry), PostingLimits.of(settings.limits))

    @property
    def timezone(self) -> tzinfo:
        return self.settings.timezone

    @property
    def rounding(self) -> str:
        """lps.earning.rounding: once at the end of the earning chain, or per_step."""
        return self.settings.rounding

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
