"""Checks of one posting against the programme's bounds (lps_core.settings.LimitSettings):

- lps.postings.max_backdate_days (default 30): how far back a bill, a settlement, a deposit, a
  top-up or a repayment may be dated; 0 allows no back-dating at all;
- lps.earning.max_bill_amount (default 1000000.00): the largest bill an outlet accepts;
- lps.earning.max_points_per_bill (default 1000000): the most points one bill earns, whatever the
  rules and promotions say (an earning rule's own max_points_per_bill may be lower);
- lps.earning.max_bill_amount.<OUTLET> and lps.earning.max_points_per_bill.<OUTLET>: the same for
  one outlet, by its code, for example lps.earning.max_bill_amount.ROOMS = 200000.00.
"""
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from lps_core.errors import Unprocessable
from lps_core.money import format_cents
from lps_core.settings import LimitSettings, settings_of
from lps_core.timeutil import as_utc, utcnow


@dataclass(frozen=True)
class PostingLimits(LimitSettings):
    @classmethod
    def of(cls, limits: LimitSettings) -> "PostingLimits":
        return cls(**asdict(limits))

    @classmethod
    def from_settings(cls, settings) -> "PostingLimits":
        """The limits of the typed settings or of a mapping of ini keys; a bad value raises ConfigurationError."""
        return cls.of(settings_of(settings).limits)

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

