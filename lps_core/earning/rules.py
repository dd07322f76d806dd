"""Versioned earning rules per outlet: which formula, with which parameters, spend bands and
rounding, in force from when. A bill is earned under the version in force at its occurred_at;
versions are never edited, so a change never alters points already posted."""
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select

from lps_core.earning.models import EarningRule
from lps_core.errors import Conflict, NotFound
from lps_core.money import format_cents, parse_amount
from lps_core.outlets.models import Outlet
from lps_core.timeutil import as_utc, isoformat, utcnow

ROUNDINGS = ("floor", "half_up", "half_even")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
BAND_BASES = ("bill", "period_spend")
BAND_PERIODS = ("month", "year")
RULE_FIELDS = ("formula", "formula_params", "bands", "band_basis", "band_period", "rounding",
               "max_points_per_bill", "effective_from", "note")


@dataclass(frozen=True)
class Band:
    """Spend from `from_cents` (inclusive) up to `to_cents` (exclusive; None = no upper end)."""

    from_cents: int
    to_cents: int | None
    multiplier: Decimal

    def covers(self, cents) -> bool:
        return cents >= self.from_cents and (self.to_cents is None or cents < self.to_cents)

    def label(self) -> str:
        if self.to_cents is None:
            return f"{format_cents(self.from_cents)} and above"
        return f"{format_cents(self.from_cents)} up to {format_cents(self.to_cents)}"


@dataclass(frozen=True)
class Rule:
    id: int
    outlet_id: int
    version: int
    effective_from: datetime
    formula: str
    formula_params: dict
    bands: tuple[Band, ...]
    band_basis: str
    band_period: str | None
    rounding: str
    max_points_per_bill: int | None

    def band_for(self, cents) -> Band | None:
        return next((band for band in self.bands if band.covers(cents)), None)

    def as_json(self):
        return {
            "id": self.id, "version": self.version, "effective_from": isoformat(self.effective_from),
            "formula": self.formula, "formula_params": self.formula_params,
            "bands": [{"from": format_cents(b.from_cents),
                       "to": format_cents(b.to_cents) if b.to_cents is not None else None,
                       "multiplier": str(b.multiplier)} for b in self.bands],
            "band_basis": self.band_basis, "band_period": self.band_period, "rounding": self.rounding,
            "max_points_per_bill": self.max_points_per_bill,
        }


def rule_from_row(row) -> Rule:
    bands = tuple(Band(parse_amount(b["from"], allow_zero=True),
                       parse_amount(b["to"]) if b.get("to") is not None else None,
                       Decimal(b["multiplier"])) for b in row.bands or [])
    return Rule(row.id, row.outlet_id, row.version, as_utc(row.effective_from), row.formula,
                row.formula_params or {}, bands, row.band_basis, row.band_period, row.rounding,
                row.max_points_per_bill)


def clean_rule(plugins, data: dict, *, partial_of: Rule | None = None) -> dict:
    """A rule version's values from `data` (an API body or the configuration form's fields), checked by
    lps_core.earning.schemas.RuleIn: malformed fields 400, what the formula plugin or the other
    fields refuse 422. Fields left out keep `partial_of`'s values."""
    from lps_core.earning.schemas import RuleIn
    from lps_core.validation import validate

    return validate(RuleIn, data, message="the earning rule has invalid fields").clean(plugins, partial_of)


def add_rule_version(db, outlet_id, clean: dict) -> Rule:
    """Append a version. It takes effect at `effective_from` (default: now, or for an outlet's first
    version the beginning of time, so late bills are covered), which may not be earlier than the
    latest version's: history is only ever added to."""
    latest = db.execute(
        select(func.max(EarningRule.version), func.max(EarningRule.effective_from))
        .where(EarningRule.outlet_id == outlet_id)
    ).one()
    effective_from = clean.get("effective_from") or (utcnow() if latest[0] else EPOCH)
    if latest[1] is not None and effective_from < as_utc(latest[1]):
        raise Conflict(f"a rule version already takes effect at {isoformat(latest[1])}; a new version must "
                       "not take effect before it", {"effective_from": f"must be at or after {isoformat(latest[1])}"})
    values = {name: clean.get(name) for name in RULE_FIELDS if name not in ("effective_from",)}
    rule_id = db.scalar(insert(EarningRule).values(
        outlet_id=outlet_id, version=(latest[0] or 0) + 1, effective_from=effective_from, created_at=utcnow(),
        **values,
    ).returning(EarningRule.id))
    return rule_from_row(db.get(EarningRule, rule_id))


def rules_of_outlet(db, outlet_id) -> list[Rule]:
    rows = db.scalars(select(EarningRule).where(EarningRule.outlet_id == outlet_id).order_by(EarningRule.version))
    return [rule_from_row(row) for row in rows]


def outlet_id_of(db, code) -> int:
    outlet_id = db.scalar(select(Outlet.id).where(Outlet.code == code))
    if outlet_id is None:
        raise NotFound(f"outlet {code!r} does not exist", {"outlet": "no such outlet"})
    return outlet_id


class RuleBook:
    """The rule versions of each outlet, cached in-process for `cache_seconds` (earning reads
    them on every bill). A new version takes effect for this process within that delay, so give
    new versions an effective_from at least that far ahead when it matters to the second."""

    def __init__(self, cache_seconds=5.0):
        self.cache_seconds = cache_seconds
        self._cache = {}
        self._lock = threading.Lock()

    def rule_at(self, db, outlet_id, moment) -> Rule:
        versions = self._versions(db, outlet_id)
        in_force = [rule for rule in versions if rule.effective_from <= moment]
        if not in_force:
            raise Conflict("the outlet has no earning rule in force at that time",
                           {"occurred_at": "before the outlet's first earning rule"})
        return in_force[-1]

    def forget(self, outlet_id):
        """Drop an outlet's cached versions: called when this process adds one."""
        with self._lock:
            self._cache.pop(outlet_id, None)

    def _versions(self, db, outlet_id):
        now = time.monotonic()
        cached = self._cache.get(outlet_id)
        if cached and cached[0] > now:
            return cached[1]
        versions = sorted(rules_of_outlet(db, outlet_id), key=lambda rule: (rule.effective_from, rule.version))
        if self.cache_seconds > 0:
            with self._lock:
                self._cache[outlet_id] = (now + self.cache_seconds, versions)
        return versions
