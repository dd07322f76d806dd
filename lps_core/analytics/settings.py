"""lps.analytics.*: the settings of member analytics, read once at start-up (a bad value stops it).

churn_days: how many days without a visit before any member can be at risk of churning (the N of
the churn warning); churn_factor: how many of their own usual intervals between visits a member
must also have missed; active_months: how recent the last visit of an active member is, for the
lifecycle; window_months: the trailing window of frequency and spend for RFM and the churn
warning's value at risk.

Segments read them through the session they are handed (`analytics_settings_of`), so a segment's
churn-risk and RFM conditions flag the same members as the analytics screens."""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lps_core.errors import ConfigurationError

CHURN_DAYS = "lps.analytics.churn_days"
CHURN_FACTOR = "lps.analytics.churn_factor"
ACTIVE_MONTHS = "lps.analytics.active_months"
WINDOW_MONTHS = "lps.analytics.window_months"


@dataclass(frozen=True)
class AnalyticsSettings:
    churn_days: int = 60
    churn_factor: Decimal = Decimal("2")
    active_months: int = 6
    window_months: int = 12

    @classmethod
    def from_mapping(cls, settings) -> "AnalyticsSettings":
        settings = settings or {}
        return cls(_whole(settings, CHURN_DAYS, 60, 1, 3660), _factor(settings),
                   _whole(settings, ACTIVE_MONTHS, 6, 1, 120), _whole(settings, WINDOW_MONTHS, 12, 1, 120))


def _whole(settings, key, default, least, most) -> int:
    value = settings.get(key)
    if value is None or str(value).strip() == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{key} must be a whole number, not {value!r}") from None
    if not least <= number <= most:
        raise ConfigurationError(f"{key} must be between {least} and {most}, not {number}")
    return number


def _factor(settings) -> Decimal:
    value = settings.get(CHURN_FACTOR)
    if value is None or str(value).strip() == "":
        return Decimal("2")
    try:
        factor = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigurationError(f"{CHURN_FACTOR} must be a decimal number such as 2 or 1.5, not {value!r}") from None
    if not Decimal("1") <= factor <= Decimal("20"):
        raise ConfigurationError(f"{CHURN_FACTOR} must be between 1 and 20, not {factor}")
    return factor


def analytics_settings_of(db) -> AnalyticsSettings:
    """The lps.analytics.* settings of the app or `lps` command whose session this is (a web
    request's, a command's environment or a worker's registry); the defaults without one."""
    request = db.info.get("request")
    registry = request.registry if request is not None else db.info.get("registry")
    if registry is not None:
        return AnalyticsSettings.from_mapping(registry.settings)
    environment = db.info.get("environment")  # an `lps` command's (lps_core.cli.Environment)
    return AnalyticsSettings.from_mapping(environment.settings) if environment is not None else AnalyticsSettings()
