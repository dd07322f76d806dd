"""When earned points expire, from the programme's settings.

- lps.points.expiry_policy = months_after_earn (default): a lot expires lps.points.expiry_months
  after the bill;
- lps.points.expiry_policy = end_of_year: a lot expires at the end of the Nth calendar year after
  the one it was earned in (lps.points.expiry_years; 0 = the end of the same year), in UTC;
- lps.points.inactivity_months (0 = off): on top of either, all of a member's points expire after
  that many months without activity; the expiry job applies it, since activity resets the clock;
- lps.points.expiry_warning_days (default 30): the expiry job warns members whose points expire
  within that many days (0 = no warnings).
"""
from dataclasses import dataclass
from datetime import datetime, timezone

from lps_core.errors import ConfigurationError
from lps_core.timeutil import add_months, as_utc

POLICIES = ("months_after_earn", "end_of_year")


@dataclass(frozen=True)
class ExpiryPolicy:
    kind: str = "months_after_earn"
    months: int = 24
    years: int = 1
    inactivity_months: int = 0
    warning_days: int = 30

    @classmethod
    def from_settings(cls, settings) -> "ExpiryPolicy":
        kind = settings.get("lps.points.expiry_policy", "months_after_earn")
        if kind not in POLICIES:
            raise ConfigurationError(f"lps.points.expiry_policy must be one of {', '.join(POLICIES)}, not {kind!r}")
        numbers = {}
        for key, name, default, minimum in (("expiry_months", "months", 24, 1), ("expiry_years", "years", 1, 0),
                                            ("inactivity_months", "inactivity_months", 0, 0),
                                            ("expiry_warning_days", "warning_days", 30, 0)):
            value = settings.get(f"lps.points.{key}", default)
            try:
                numbers[name] = int(value)
            except (TypeError, ValueError):
                numbers[name] = -1
            if numbers[name] < minimum:
                raise ConfigurationError(f"lps.points.{key} must be a whole number of at least {minimum}, not {value!r}")
        return cls(kind, **numbers)

    def lot_expires_at(self, earned_at: datetime) -> datetime:
        earned_at = as_utc(earned_at)
        if self.kind == "end_of_year":
            return datetime(earned_at.year + self.years + 1, 1, 1, tzinfo=timezone.utc)
        return add_months(earned_at, self.months)
