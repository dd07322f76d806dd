"""LPS's own settings as one typed, frozen object: read from the ini file, overridden by the
environment, checked once at start-up and registered as the ISettings utility
(`request.lps_settings` in views, `registry.getUtility(ISettings)` at include time).

Secrets and the database URLs come from the environment in production, so ini files can be
committed: LPS_DATABASE_URL sets sqlalchemy.url, LPS_REPORTS_DATABASE_URL sets
lps.reports.database_url, LPS_SESSION_SECRET sets lps.session.secret, and LPS_PII_KEYS and
LPS_PII_INDEX_KEY set the keys of personal data (lps.pii.keys, lps.pii.index_key).

A bad value raises ConfigurationError with one line that names the setting. This module imports no
feature: the features take their settings, and the choices a setting may name, from here.
docs/configuration.md describes every setting."""
import os
import re
from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pyramid.settings import asbool, falsey, truthy

from lps_core.errors import ConfigurationError
from lps_core.money import parse_amount

FROM_ENVIRONMENT = {"LPS_DATABASE_URL": "sqlalchemy.url", "LPS_SESSION_SECRET": "lps.session.secret",
                    "LPS_PII_KEYS": "lps.pii.keys", "LPS_PII_INDEX_KEY": "lps.pii.index_key",
                    "LPS_REPORTS_DATABASE_URL": "lps.reports.database_url"}

# The choices a setting may name.
ROUNDING_STRATEGIES = ("once", "per_step")  # the earning chain rounded once at its end, or after every step
ISSUANCE_METHODS = ("pool", "generate", "pool_then_generate")
EXPIRY_POLICIES = ("months_after_earn", "end_of_year")
TIER_WINDOWS = ("calendar_year", "rolling_12_months")
UPGRADE_BILL_EARNS_AT = ("old", "new")  # the tier at which the bill that qualifies for a higher tier earns

DATABASE_BACKENDS = ("postgresql", "sqlite")
DEFAULT_PHONE_REGION = "CN"
MAX_BILL_SETTING = "lps.earning.max_bill_amount"
MAX_POINTS_SETTING = "lps.earning.max_points_per_bill"
MAX_BACKDATE_DAYS_ALLOWED = 3660
MOST_POINTS_PER_BILL_ALLOWED = 10**15


@dataclass(frozen=True)
class DatabaseSettings:
    """The database (sqlalchemy.url) and PostgreSQL's timeouts (see lps_core.db.get_engine): seconds
    to connect (lps.db.connect_timeout), milliseconds a statement of a web request may run
    (lps.db.statement_timeout_ms, 0: no limit) and seconds to wait for a pooled connection
    (sqlalchemy.pool_timeout). `reports_url` (lps.reports.database_url) names a read-only copy of
    the database, a streaming replica, that reports and analytics read from; None: they read the
    database itself (lps_core.db, `request.reports_db`). `pipelined_begin` (lps.db.pipelined_begin)
    sends a transaction's BEGIN with its first statement (lps_core.db.begin): True always, False
    never, None (`auto`) on connections to a server on another host."""

    url: str | None = None
    connect_timeout: int = 5
    statement_timeout_ms: int = 15000
    pool_timeout: int = 5
    reports_url: str | None = None
    pipelined_begin: bool | None = None


@dataclass(frozen=True)
class LimitSettings:
    """Bounds on one posting. lps.postings.max_backdate_days: how far back a bill, a settlement, a
    deposit, a top-up or a repayment may be dated (0: no back-dating); lps.earning.max_bill_amount
    and lps.earning.max_points_per_bill, each with per-outlet overrides (`<key>.<OUTLET>`)."""

    max_backdate_days: int = 30
    max_bill_cents: int = 100_000_000  # 1,000,000.00
    max_points_per_bill: int = 1_000_000
    bill_cents_by_outlet: dict = field(default_factory=dict)
    points_by_outlet: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ExpirySettings:
    """lps.points.*: when earned points expire (see lps_core.expiry.policy)."""

    kind: str = "months_after_earn"
    months: int = 24
    years: int = 1
    inactivity_months: int = 0
    warning_days: int = 30


@dataclass(frozen=True)
class TierSettings:
    """`lps.tiers.model`, `lps.tiers.window`, `lps.members.dormant_after_months`,
    `lps.members.close_after_months` (0 turns a lifecycle rule off) and
    `lps.tiers.upgrade_bill_earns_at`: `old` (the bill that lifts a member to a higher tier earns at
    the tier they held when it was presented, the default) or `new` (it earns at the tier it reaches)."""

    model: str = "points_threshold"
    window: str = "rolling_12_months"
    dormant_after_months: int = 0
    close_after_months: int = 0
    upgrade_bill_earns_at: str = "old"


@dataclass(frozen=True)
class SessionSettings:
    """The staff screens' session: lps.session.secret (None: a random one per start), .secure, .idle_timeout."""

    secret: str | None = None
    secure: bool = False
    idle_timeout: int = 1800


@dataclass(frozen=True)
class PiiSettings:
    """The keys of personal data at rest (checked further by lps_core.pii.PiiKeys) and the region
    in which a phone number without its country code is read."""

    keys: tuple = ()
    index_key: str | None = None
    phone_region: str = DEFAULT_PHONE_REGION

    @property
    def configured(self) -> bool:
        return bool(self.keys or self.index_key)


@dataclass(frozen=True)
class MessageSettings:
    """lps.messages.*: the outbox and `lps worker` (lps_core.messages, docs/messages.md).

    default_language: of a member's messages when nothing says otherwise; max_tries: attempts
    before a message is a dead letter; backoff_seconds: the wait after the first failed try,
    doubled after each (at most backoff_max_seconds); lease_seconds: how long a worker holds a
    message it is sending before another may take it again (a worker killed mid-send);
    batch_size and poll_seconds: how many messages a worker claims at once, and how often it looks;
    quiet_hours: (start, end) minutes after midnight in lps.timezone during which marketing messages
    wait, None for none (`22:00-08:00`, or empty); rate_limit_per_hour: messages a member receives
    per channel in an hour before the next ones wait (0: no limit; one-time codes are exempt);
    points_earned: tell members of their points after each bill; public_url: the address of the
    site members reach, for the unsubscribe link in marketing e-mail; console: write each message
    sent to the worker's log as well (development)."""

    default_language: str = "zh_CN"
    max_tries: int = 8
    backoff_seconds: int = 60
    backoff_max_seconds: int = 6 * 3600
    lease_seconds: int = 300
    batch_size: int = 20
    poll_seconds: float = 2.0
    quiet_hours: tuple | None = (22 * 60, 8 * 60)
    rate_limit_per_hour: int = 5
    points_earned: bool = False
    public_url: str = "http://localhost:6543"
    console: bool = False


SMS_COMMANDS = ("balance", "redeem", "help", "stop")
SMS_SIGNATURE_ALGORITHMS = ("hmac-sha256", "hmac-sha1", "md5")
# The words of each SMS command, by language: the language of the word a member texts is the
# language of the answer. Words are compared without case; a member may text any of them.
SMS_WORDS = {
    ("balance", "zh_CN"): "余额 YE", ("balance", "en"): "BAL BALANCE",
    ("redeem", "zh_CN"): "兑换 DH", ("redeem", "en"): "REDEEM",
    ("help", "zh_CN"): "帮助 BZ", ("help", "en"): "HELP ?",
    ("stop", "zh_CN"): "退订 TD T", ("stop", "en"): "STOP UNSUBSCRIBE",
}


@dataclass(frozen=True)
class SmsSettings:
    """lps.sms.*: the webhook of inbound SMS commands (lps_core.sms, docs/sms.md).

    inbound_secret: the secret the gateway signs with (None: the webhook is off and answers 404);
    inbound_algorithm, inbound_encoding (hex or base64) and inbound_signature_string (placeholders
    {timestamp}, {nonce}, {body}, {phone}, {text}, {secret}; `\\n` is a line break): how the
    signature is made; inbound_signature, inbound_timestamp, inbound_nonce, inbound_phone and
    inbound_text: where each is read, `header:<name>` or `param:<name>` (a form field, a JSON key
    or a query parameter); inbound_max_age_seconds: how old a timestamp may be, either way;
    outlet: the outlet code SMS replies are sent as and rewards are reserved at (None: no
    reservations by SMS); words: {(command, language): (word, ...)}."""

    inbound_secret: str | None = None
    inbound_algorithm: str = "hmac-sha256"
    inbound_encoding: str = "hex"
    inbound_signature_string: str = "{timestamp}\n{nonce}\n{body}"
    inbound_signature: str = "header:X-Signature"
    inbound_timestamp: str = "header:X-Timestamp"
    inbound_nonce: str = "header:X-Nonce"
    inbound_phone: str = "param:from"
    inbound_text: str = "param:text"
    inbound_max_age_seconds: int = 300
    outlet: str | None = None
    words: dict = field(default_factory=lambda: {key: tuple(value.split()) for key, value in SMS_WORDS.items()})


@dataclass(frozen=True)
class BirthdaySettings:
    """lps.birthdays.*: `lps jobs birthdays` (lps_core.birthdays). bonus_points: credited with each
    greeting (0: none); catch_up_days: birthdays this many days past are still greeted, for a job
    that did not run; outlet: the outlet code the greetings are sent as (None: the programme's);
    coupon_type: the code of a coupon type (lps_core.coupons) issued with each greeting (None: none)."""

    bonus_points: int = 0
    catch_up_days: int = 7
    outlet: str | None = None
    coupon_type: str | None = None


@dataclass(frozen=True)
class Settings:
    """LPS's own settings, by area; docs/configuration.md describes each and its ini key."""

    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    timezone: tzinfo = ZoneInfo("UTC")
    currency: str = "CNY"
    rules_cache_seconds: float = 5.0
    rounding: str = "once"
    limits: LimitSettings = field(default_factory=LimitSettings)
    expiry: ExpirySettings = field(default_factory=ExpirySettings)
    tiers: TierSettings = field(default_factory=TierSettings)
    reward_points_per_currency_unit: Decimal = Decimal("100")
    vouchers_earn_points: bool = False
    card_issuance: str = "pool_then_generate"
    session: SessionSettings = field(default_factory=SessionSettings)
    api_key_cache_seconds: int = 5
    pii: PiiSettings = field(default_factory=PiiSettings)
    check_outlets_on_start: bool = True
    messages: MessageSettings = field(default_factory=MessageSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    birthdays: BirthdaySettings = field(default_factory=BirthdaySettings)

    @classmethod
    def from_mapping(cls, settings) -> "Settings":
        """The typed settings of a mapping of ini keys, defaults filled in; a bad value raises
        ConfigurationError. Nothing is required here: read_settings requires what the app needs."""
        settings = settings or {}
        return cls(
            database=DatabaseSettings(settings.get("sqlalchemy.url") or None,
                                      _whole(settings, "lps.db.connect_timeout", 5, 1),
                                      _whole(settings, "lps.db.statement_timeout_ms", 15000, 0),
                                      _whole(settings, "sqlalchemy.pool_timeout", 5, 1),
                                      _reports_url(settings),
                                      _flag_or_auto(settings, "lps.db.pipelined_begin")),
            timezone=_time_zone(settings),
            currency=str(settings.get("lps.currency") or "CNY").strip(),
            rules_cache_seconds=_seconds(settings, "lps.rules.cache_seconds", 5),
            rounding=_choice(settings, "lps.earning.rounding", ROUNDING_STRATEGIES, "once"),
            limits=_limits(settings),
            expiry=_expiry(settings),
            tiers=_tiers(settings),
            reward_points_per_currency_unit=_ratio(settings),
            vouchers_earn_points=_flag(settings, "lps.vouchers.earn_points", False),
            card_issuance=_choice(settings, "lps.cards.issuance", ISSUANCE_METHODS, "pool_then_generate"),
            session=SessionSettings(
                settings.get("lps.session.secret") or None,
                _flag(settings, "lps.session.secure", False),
                _whole(settings, "lps.session.idle_timeout", 1800, 1)),
            api_key_cache_seconds=_whole(settings, "lps.api.key_cache_seconds", 5, 0),
            pii=_pii(settings),
            check_outlets_on_start=_flag(settings, "lps.check_outlets_on_start", True),
            messages=_messages(settings),
            sms=_sms(settings),
            birthdays=_birthdays(settings),
        )


def settings_of(settings) -> Settings:
    """`settings` as the typed object: itself, or parsed from a mapping of ini keys, as an `lps`
    command's environment and tests hold them."""
    return settings if isinstance(settings, Settings) else Settings.from_mapping(settings)


def with_environment(settings) -> dict:
    """The ini settings with the environment's overrides applied: they win over the ini file."""
    return {**settings, **{key: os.environ[variable] for variable, key in FROM_ENVIRONMENT.items()
                           if os.environ.get(variable)}}


def read_settings(settings) -> Settings:
    """The typed settings of an application: what the app cannot run without is required."""
    typed = Settings.from_mapping(settings)
    if not typed.database.url:
        raise ConfigurationError("no database: set sqlalchemy.url in the ini file or LPS_DATABASE_URL")
    if not typed.pii.configured:
        raise ConfigurationError("no keys for personal data: set lps.pii.keys and lps.pii.index_key "
                                 "(or LPS_PII_KEYS and LPS_PII_INDEX_KEY); see docs/security.md")
    if not typed.session.secret and typed.session.secure:
        raise ConfigurationError("lps.session.secret is required with secure sessions: set LPS_SESSION_SECRET")
    return typed


def apply_environment(settings) -> dict:
    """The ini settings with the environment's overrides applied, checked as the app checks them
    (for `lps` commands, which hand the mapping on to the engine and the plugins)."""
    settings = with_environment(settings)
    read_settings(settings)
    return settings


def app_factory(global_config, **settings):
    """The PasteDeploy entry point (`use = egg:lps`): the app of lps_core.main(), with what start-up
    built frozen out of the garbage collector's way, or, when the configuration is wrong, an exit
    with one line that names the setting instead of a traceback."""
    import gc

    from lps_core import main

    try:
        app = main(global_config, **settings)
    except ConfigurationError as exc:
        raise SystemExit(f"lps: configuration error: {exc}") from None
    # What start-up built (configuration, views, templates, mappers: about 230,000 objects) lives as
    # long as the server. Frozen, the collector's full collections no longer walk it: each walk took
    # 100-190 ms, with every request thread waiting for the GIL meanwhile (bench/README.md). Here, not
    # in main(): a process that builds many apps, as the test suite does, must not keep them all.
    gc.collect()
    gc.freeze()
    return app


def includeme(config):
    """Apply the environment to the configuration's settings, check them and register the typed
    settings as ISettings (`request.lps_settings`). Include it before any feature."""
    from lps_core.components import ISettings

    raw = config.get_settings()
    raw.update(with_environment(raw))
    config.registry.registerUtility(read_settings(raw), ISettings)
    config.add_request_method(lambda request: request.registry.getUtility(ISettings), "lps_settings", reify=True)


# --- Parsing one value ----------------------------------------------------------------------------

def _choice(settings, key, choices, default) -> str:
    value = str(settings.get(key) or default).strip()
    if value not in choices:
        raise ConfigurationError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _whole(settings, key, default, minimum, maximum=None, unit="") -> int:
    value = settings.get(key, default)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise ConfigurationError(f"{key} must be a whole number{unit} {bound}, not {value!r}")
    return number


def _seconds(settings, key, default) -> float:
    value = settings.get(key, default)
    try:
        seconds = float(str(value).strip())
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ConfigurationError(f"{key} must be a number of seconds of at least 0, not {value!r}")
    return seconds


def _flag(settings, key, default) -> bool:
    value = settings.get(key, default)
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() not in truthy | falsey:
        raise ConfigurationError(f"{key} must be true or false, not {value!r}")
    return asbool(value)


def _flag_or_auto(settings, key) -> bool | None:
    """A flag that may also be "auto" (the default), read as None: decided where it applies."""
    value = settings.get(key, "auto")
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    try:
        return _flag(settings, key, None)
    except ConfigurationError:
        raise ConfigurationError(f"{key} must be auto, true or false, not {value!r}") from None


def _amount(settings, key) -> int:
    value = settings.get(key)
    try:
        return parse_amount(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{key} must be an amount such as 1000000.00, not {value!r}") from None


def _reports_url(settings) -> str | None:
    """lps.reports.database_url: a URL of the same kind of database as sqlalchemy.url. The value is
    never repeated in the error: it may hold a password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    value = str(settings.get("lps.reports.database_url") or "").strip()
    if not value:
        return None
    try:
        backend = make_url(value).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in DATABASE_BACKENDS:
        raise ConfigurationError("lps.reports.database_url must be a database URL such as "
                                 "postgresql+psycopg://reports@replica:5432/lps")
    primary = str(settings.get("sqlalchemy.url") or "").split(":", 1)[0].split("+", 1)[0]
    if primary in DATABASE_BACKENDS and primary != backend:
        raise ConfigurationError(f"lps.reports.database_url must name a {primary} database, as sqlalchemy.url "
                                 f"does, not a {backend} one")
    return value


def _time_zone(settings) -> tzinfo:
    name = str(settings.get("lps.timezone") or "UTC").strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"lps.timezone {name!r} is not a known time zone (e.g. Asia/Shanghai)") from None


def _limits(settings) -> LimitSettings:
    default = LimitSettings()
    bill_cents_by_outlet, points_by_outlet = {}, {}
    for key in settings:
        if key.startswith(MAX_BILL_SETTING + "."):
            bill_cents_by_outlet[key.removeprefix(MAX_BILL_SETTING + ".")] = _amount(settings, key)
        elif key.startswith(MAX_POINTS_SETTING + "."):
            points_by_outlet[key.removeprefix(MAX_POINTS_SETTING + ".")] = _whole(
                settings, key, None, 1, MOST_POINTS_PER_BILL_ALLOWED)
    return LimitSettings(
        _whole(settings, "lps.postings.max_backdate_days", default.max_backdate_days, 0, MAX_BACKDATE_DAYS_ALLOWED),
        _amount(settings, MAX_BILL_SETTING) if settings.get(MAX_BILL_SETTING) is not None else default.max_bill_cents,
        _whole(settings, MAX_POINTS_SETTING, default.max_points_per_bill, 1, MOST_POINTS_PER_BILL_ALLOWED),
        bill_cents_by_outlet, points_by_outlet)


def _expiry(settings) -> ExpirySettings:
    default = ExpirySettings()
    return ExpirySettings(
        _choice(settings, "lps.points.expiry_policy", EXPIRY_POLICIES, default.kind),
        *(_whole(settings, f"lps.points.{key}", getattr(default, name), minimum)
          for key, name, minimum in (("expiry_months", "months", 1), ("expiry_years", "years", 0),
                                     ("inactivity_months", "inactivity_months", 0),
                                     ("expiry_warning_days", "warning_days", 0))))


def _tiers(settings) -> TierSettings:
    default = TierSettings()
    dormant = _whole(settings, "lps.members.dormant_after_months", 0, 0, 1200, unit=" of months")
    close = _whole(settings, "lps.members.close_after_months", 0, 0, 1200, unit=" of months")
    if dormant and close and close <= dormant:
        raise ConfigurationError("lps.members.close_after_months must be more than "
                                 f"lps.members.dormant_after_months ({close} <= {dormant})")
    return TierSettings(str(settings.get("lps.tiers.model") or default.model).strip(),
                        _choice(settings, "lps.tiers.window", TIER_WINDOWS, default.window),
                        dormant, close,
                        _choice(settings, "lps.tiers.upgrade_bill_earns_at", UPGRADE_BILL_EARNS_AT,
                                default.upgrade_bill_earns_at))


def _ratio(settings) -> Decimal:
    value = settings.get("lps.rewards.points_per_currency_unit", "100")
    try:
        ratio = Decimal(str(value).strip())
    except InvalidOperation:
        ratio = None
    if ratio is None or not ratio.is_finite() or ratio <= 0:
        raise ConfigurationError(f"lps.rewards.points_per_currency_unit must be a positive number such as 100, "
                                 f"not {value!r}")
    return ratio


def _pii(settings) -> PiiSettings:
    keys, index_key = settings.get("lps.pii.keys"), settings.get("lps.pii.index_key")
    region = str(settings.get("lps.phone.default_region") or DEFAULT_PHONE_REGION).strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigurationError(f"lps.phone.default_region must be a region code such as CN or DE, "
                                 f"not {settings.get('lps.phone.default_region')!r}")
    return PiiSettings(tuple(re.split(r"[\s,]+", keys.strip())) if keys and keys.strip() else (),
                       index_key or None, region)


MESSAGE_LANGUAGES = ("zh_CN", "en")


def _messages(settings) -> MessageSettings:
    default = MessageSettings()
    key = "lps.messages."
    backoff = _whole(settings, key + "backoff_seconds", default.backoff_seconds, 1, 86400, unit=" of seconds")
    return MessageSettings(
        _choice(settings, key + "default_language", MESSAGE_LANGUAGES, default.default_language),
        _whole(settings, key + "max_tries", default.max_tries, 1, 100),
        backoff,
        _whole(settings, key + "backoff_max_seconds", max(default.backoff_max_seconds, backoff), backoff, 7 * 86400,
               unit=" of seconds"),
        _whole(settings, key + "lease_seconds", default.lease_seconds, 5, 86400, unit=" of seconds"),
        _whole(settings, key + "batch_size", default.batch_size, 1, 1000),
        _seconds(settings, key + "poll_seconds", default.poll_seconds),
        _quiet_hours(settings, key + "quiet_hours"),
        _whole(settings, key + "rate_limit_per_hour", default.rate_limit_per_hour, 0),
        _flag(settings, key + "points_earned", default.points_earned),
        str(settings.get(key + "public_url") or default.public_url).strip().rstrip("/"),
        _flag(settings, key + "console", default.console),
    )


def _quiet_hours(settings, key) -> tuple | None:
    """`22:00-08:00` as minutes after midnight (start, end); empty or `none`: no quiet hours."""
    value = settings.get(key, "22:00-08:00")
    text = str(value or "").strip().lower()
    if text in ("", "none", "off"):
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text)
    if match:
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60 and (h1, m1) != (h2, m2):
            return (h1 * 60 + m1, h2 * 60 + m2)
    raise ConfigurationError(f"{key} must be a time range such as 22:00-08:00, or empty for none, not {value!r}")


def _sms(settings) -> SmsSettings:
    default = SmsSettings()
    where = {}
    for name in ("signature", "timestamp", "nonce", "phone", "text"):
        key = f"lps.sms.inbound_{name}"
        value = str(settings.get(key) or getattr(default, f"inbound_{name}")).strip()
        source, _, field_name = value.partition(":")
        if source not in ("header", "param") or not field_name.strip():
            raise ConfigurationError(f"{key} must be header:<name> or param:<name>, not {value!r}")
        where[name] = f"{source}:{field_name.strip()}"
    encoding = _choice(settings, "lps.sms.inbound_encoding", ("hex", "base64"), default.inbound_encoding)
    words, seen = {}, {}
    for (command, language), default_words in SMS_WORDS.items():
        key = f"lps.sms.words.{command}.{language}"
        listed = tuple(str(settings.get(key) or default_words).split())
        for word in listed:
            other = seen.setdefault(word.upper(), key)
            if other != key:
                raise ConfigurationError(f"{key}: the word {word!r} is also a word of {other}")
        words[(command, language)] = listed
    outlet = str(settings.get("lps.sms.outlet") or "").strip() or None
    return SmsSettings(
        str(settings.get("lps.sms.inbound_secret") or "").strip() or None,
        _choice(settings, "lps.sms.inbound_algorithm", SMS_SIGNATURE_ALGORITHMS, default.inbound_algorithm),
        encoding,
        str(settings.get("lps.sms.inbound_signature_string") or default.inbound_signature_string)
        .replace("\\n", "\n"),
        where["signature"], where["timestamp"], where["nonce"], where["phone"], where["text"],
        _whole(settings, "lps.sms.inbound_max_age_seconds", default.inbound_max_age_seconds, 1, 86400,
               unit=" of seconds"),
        outlet, words)


def _birthdays(settings) -> BirthdaySettings:
    default = BirthdaySettings()
    return BirthdaySettings(
        _whole(settings, "lps.birthdays.bonus_points", default.bonus_points, 0, MOST_POINTS_PER_BILL_ALLOWED),
        _whole(settings, "lps.birthdays.catch_up_days", default.catch_up_days, 0, 31, unit=" of days"),
        str(settings.get("lps.birthdays.outlet") or "").strip() or None,
        str(settings.get("lps.birthdays.coupon_type") or "").strip() or None)
