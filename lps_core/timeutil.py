"""Times are stored in UTC; SQLite hands them back naive, so every read goes through as_utc()."""
import calendar
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def add_months(value: datetime, months: int) -> datetime:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def isoformat(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


def parse_timestamp(value) -> datetime:
    """An ISO 8601 date-time with a time-zone offset, as UTC; ValueError says what is wrong, in
    words fit for an API field."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time such as 2026-05-01T19:30:00+08:00")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time such as 2026-05-01T19:30:00+08:00") from None
    if parsed.tzinfo is None:
        raise ValueError("must include a time-zone offset, such as +08:00 or Z")
    return as_utc(parsed)
