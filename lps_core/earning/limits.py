"""Bounds on one posting, from the programme's settings, with per-outlet overrides for the ceilings:

- lps.postings.max_backdate_days (default 30): how far back a bill, a settlement, a deposit, a
  top-up or a repayment may be dated; 0 allows no back-dating at all;
- lps.earning.max_bill_amount (default 1000000.00): the largest bill an outlet accepts;
- lps.earning.max_points_per_bill (default 1000000): the most points one bill earns, whatever the
  rules and promotions say (an earning rule's own max_points_per_bill may be lower);
- lps.earning.max_bill_amount.<OUTLET> and lps.earning.max_points_per_bill.<OUTLET>: the same for
  one outlet, by its code, for example lps.earning.max_bill_amount.ROOMS = 200000.00.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lps_core.errors import ConfigurationError, Unprocessable
from lps_core.money import format_cents, parse_amount
from lps_core.timeutil import as_utc, utcnow

BACKDATE_SETTING = "lps.postings.max_backdate_days"
MAX_BILL_SETTING = "lps.earning.max_bill_amount"
MAX_POINTS_SETTING = "lps.earning.max_points_per_bill"
DEFAULT_MAX_BACKDATE_DAYS = 30
DEFAULT_MAX_BILL_CENTS = 100_000_000  # 1,000,000.00
DEFAULT_MAX_POINTS_PER_BILL = 1_000_000
MAX_BACKDATE_DAYS_ALLOWED = 3660


@dataclass(frozen=True)
class PostingLimits:
    max_backdate_days: int = DEFAULT_MAX_BACKDATE_DAYS
    max_bill_cents: int = DEFAULT_MAX_BILL_CENTS
    max_points_per_bill: int = DEFAULT_MAX_POINTS_PER_BILL
    bill_cents_by_outlet: dict = field(default_factory=dict)
    points_by_outlet: dict = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings) -> "PostingLimits":
        settings = settings or {}
        days = _whole(settings, BACKDATE_SETTING, DEFAULT_MAX_BACKDATE_DAYS, 0, MAX_BACKDATE_DAYS_ALLOWED)
        bill = _amount(settings, MAX_BILL_SETTING, DEFAULT_MAX_BILL_CENTS)
        points = _whole(settings, MAX_POINTS_SETTING, DEFAULT_MAX_POINTS_PER_BILL, 1, 10**15)
        bills_by_outlet, points_by_outlet = {}, {}
        for key in settings:
            if key.startswith(MAX_BILL_SETTING + "."):
                bills_by_outlet[key.removeprefix(MAX_BILL_SETTING + ".")] = _amount(settings, key, None)
            elif key.startswith(MAX_POINTS_SETTING + "."):
                points_by_outlet[key.removeprefix(MAX_POINTS_SETTING + ".")] = _whole(settings, key, None, 1, 10**15)
        return cls(days, bill, points, bills_by_outlet, points_by_outlet)

    def max_bill_cents_at(self, outlet_code) -> int:
        return self.bill_cents_by_outlet.get(outlet_code, self.max_bill_cents)

    def max_points_at(self, outlet_code) -> int:
        return self.points_by_outlet.get(outlet_code, self.max_points_per_bill)

    def check_bill_amount(self, amount_cents, outlet_code, *, field="amount") -> None:
        """422 naming `field` when a bill is larger than the outlet accepts."""
        most = self.max_bill_cents_at(outlet_code)
        if amount_cents > most:
            raise Unprocessable(f"a bill of {format_cents(amount_cents)} is more than outlet {outlet_code} accepts "
                                f"({format_cents(most)})", {field: f"must be at most {format_cents(most)}"})

    def earliest(self, now=None) -> datetime:
        return as_utc(now or utcnow()) - timedelta(days=self.max_backdate_days)

    def check_occurred_at(self, occurred_at, *, now=None, field="occurred_at") -> None:
        """422 naming `field` when a posting is dated further back than lps.postings.max_backdate_days."""
        if occurred_at is None:
            return
        earliest = self.earliest(now)
        if as_utc(occurred_at) < earliest:
            days = self.max_backdate_days
            raise Unprocessable(
                f"{field} {as_utc(occurred_at).date().isoformat()} is more than {days} days ago: postings may be "
                f"back-dated to {earliest.date().isoformat()} at the earliest",
                {field: f"must be at most {days} days in the past"})


def _whole(settings, key, default, minimum, maximum) -> int:
    value = settings.get(key, default)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not minimum <= number <= maximum:
        raise ConfigurationError(f"{key} must be a whole number from {minimum} to {maximum}, not {value!r}")
    return number


def _amount(settings, key, default_cents) -> int:
    value = settings.get(key)
    if value is None:
        return default_cents
    try:
        return parse_amount(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{key} must be an amount such as 1000000.00, not {value!r}") from None
