"""lps.reports.*: the settings of the reports, read once at start-up (a bad value stops it).

point_value: the money one point is worth to the programme (a decimal, "0.01"), for the points
liability; breakage_months: the trailing window of expiry history the breakage estimate is taken
over; overdue_days: how old an unpaid credit charge is before it counts as overdue; staff_url: the
address of the staff screens, for the links in scheduled e-mail; schedule: the reports mailed to
staff (see lps_core.reports.schedule)."""
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lps_core.errors import ConfigurationError

POINT_VALUE = "lps.reports.point_value"
BREAKAGE_MONTHS = "lps.reports.breakage_months"
OVERDUE_DAYS = "lps.reports.overdue_days"
STAFF_URL = "lps.reports.staff_url"
SCHEDULE = "lps.reports.schedule"
MAX_POINT_VALUE = Decimal("1000")


@dataclass(frozen=True)
class Scheduled:
    """One report mailed to staff: its name, `daily` (yesterday's) or `monthly` (last month's), and
    the addresses it goes to."""

    report: str
    frequency: str
    recipients: tuple


@dataclass(frozen=True)
class ReportSettings:
    point_value: Decimal = Decimal("0.01")
    breakage_months: int = 12
    overdue_days: int = 30
    staff_url: str = "http://localhost:6543"
    schedule: tuple = field(default_factory=tuple)

    @classmethod
    def from_mapping(cls, settings) -> "ReportSettings":
        settings = settings or {}
        return cls(_point_value(settings), _whole(settings, BREAKAGE_MONTHS, 12, 1, 120),
                   _whole(settings, OVERDUE_DAYS, 30, 1, 3660),
                   str(settings.get(STAFF_URL) or settings.get("lps.messages.public_url")
                       or "http://localhost:6543").strip().rstrip("/"),
                   _schedule(settings))


def _point_value(settings) -> Decimal:
    raw = str(settings.get(POINT_VALUE) or "0.01").strip()
    try:
        value = Decimal(raw) if re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,6})?", raw) else None
    except InvalidOperation:
        value = None
    if value is None or value > MAX_POINT_VALUE:
        raise ConfigurationError(f"{POINT_VALUE} must be a decimal such as 0.01 (the money one point is worth), "
                                 f"not {raw!r}")
    return value


def _whole(settings, key, default, minimum, maximum) -> int:
    raw = str(settings.get(key, default)).strip()
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not minimum <= int(raw) <= maximum:
        raise ConfigurationError(f"{key} must be a whole number from {minimum} to {maximum}, not {raw!r}")
    return int(raw)


def _schedule(settings) -> tuple:
    """`sales daily a@hotel.cn b@hotel.cn; points monthly finance@hotel.cn`: entries separated by
    `;` or new lines, each a report, a frequency and one or more addresses."""
    from lps_core.reports.catalogue import REPORTS

    entries = []
    for part in re.split(r"[;\n]", str(settings.get(SCHEDULE) or "")):
        words = part.split()
        if not words:
            continue
        if len(words) < 3 or words[0] not in REPORTS or words[1] not in ("daily", "monthly") \
                or not all(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", word) for word in words[2:]):
            raise ConfigurationError(f"{SCHEDULE}: each entry is a report ({', '.join(REPORTS)}), daily or monthly, "
                                     f"and e-mail addresses, not {part.strip()!r}")
        entries.append(Scheduled(words[0], words[1], tuple(words[2:])))
    return tuple(entries)
