"""When earned points expire, by the programme's settings (lps_core.settings.ExpirySettings).

- lps.points.expiry_policy = months_after_earn (default): a lot expires lps.points.expiry_months
  after the bill;
- lps.points.expiry_policy = end_of_year: a lot expires at the end of the Nth calendar year after
  the one it was earned in (lps.points.expiry_years; 0 = the end of the same year), in UTC;
- lps.points.inactivity_months (0 = off): on top of either, all of a member's points expire after
  that many months without activity; the expiry job applies it, since activity resets the clock;
- lps.points.expiry_warning_days (default 30): the expiry job warns members whose points expire
  within that many days (0 = no warnings).
"""
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from lps_core.settings import ExpirySettings, settings_of
from lps_core.timeutil import add_months, as_utc


@dataclass(frozen=True)
class ExpiryPolicy(ExpirySettings):
    @classmethod
    def of(cls, expiry: ExpirySettings) -> "ExpiryPolicy":
        return cls(**asdict(expiry))

    @classmethod
    def from_settings(cls, settings) -> "ExpiryPolicy":
        """The policy of the typed settings or of a mapping of ini keys; a bad value raises ConfigurationError."""
        return cls.of(settings_of(settings).expiry)

    def lot_expires_at(self, earned_at: datetime) -> datetime:
        earned_at = as_utc(earned_at)
        if self.kind == "end_of_year":
            return datetime(earned_at.year + self.years + 1, 1, 1, tzinfo=timezone.utc)
        return add_months(earned_at, self.months)
