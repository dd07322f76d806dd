"""Languages of the staff screens (English and Simplified Chinese) and locale-aware formatting.

The language is the one the operator picked with the switch in the header (a cookie), else the
best match of the browser's Accept-Language, else English. Texts come from gettext catalogs under
lps_core/locale, one domain per group of screens (`lps` for the shared layout and sign-in, and one
per feature); templates mark them with i18n:translate and Python code with the factories below.
`make catalogs` extracts new messages and compiles the catalogs (docs/translating.md).

Money, numbers and dates are formatted by Babel for the page's locale, in one format per locale
(`Formatter`); times are shown in the programme's time zone (lps.timezone). Stored codes (statuses,
kinds, roles) are named by `label(kind, value)` from lps_core.labels."""
from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal
from pyramid.events import BeforeRender, subscriber
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationString
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from lps_core.components import ILabels
from lps_core.i18n import _
from lps_core.timeutil import as_utc, parse_timestamp

LOCALES = {"en": "English", "zh_CN": "中文"}
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "_LOCALE_"


def negotiate_locale(request) -> str:
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    # By the primary language of the browser's preferences, best first: "zh", "zh-CN" and
    # "zh-Hans" all get Chinese; "en-GB" gets English.
    by_language = {name.split("_")[0].lower(): name for name in LOCALES}
    preferences = getattr(request.accept_language, "parsed", None) or ()
    for language, quality in sorted(preferences, key=lambda preference: -preference[1]):
        locale = by_language.get(language.split("-")[0].lower())
        if quality > 0 and locale:
            return locale
    return DEFAULT_LOCALE


class Formatter:
    """Formats values for one page's locale; templates use it as `fmt`, and it is the only place
    that turns a date or time into text for a screen.

    One format per locale: a date is the locale's medium date ("Nov 25, 2026", "2026年11月25日") and
    a time adds the locale's short time of day to that same date ("Nov 25, 2026, 8:30 PM",
    "2026年11月25日 20:30"), always in the programme's time zone."""

    DATE_FORMAT = "medium"
    TIME_FORMAT = "short"

    def __init__(self, locale_name, timezone, currency):
        self.locale = Locale.parse(locale_name)
        self.timezone = timezone
        self.currency = currency

    def money(self, cents) -> str:
        if cents is None:
            return ""
        return format_currency(Decimal(cents) / 100, self.currency, locale=self.locale)

    def number(self, value) -> str:
        return "" if value is None else format_decimal(value, locale=self.locale)

    def date(self, value) -> str:
        """A date, or the local date of a moment."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = parse_timestamp(value) if "T" in value else date.fromisoformat(value)
        if isinstance(value, datetime):
            value = self.local(value).date()
        return format_date(value, format=self.DATE_FORMAT, locale=self.locale)

    def datetime(self, value) -> str:
        """A moment (a datetime, or an ISO 8601 text as the documents carry) as local date and time."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = parse_timestamp(value)
        local = self.local(value)
        pattern = self.locale.datetime_formats[self.DATE_FORMAT]
        return pattern.format(format_time(local, format=self.TIME_FORMAT, locale=self.locale),
                              format_date(local.date(), format=self.DATE_FORMAT, locale=self.locale))

    def form_moment(self, value) -> str:
        """A moment as the text of a form field: ISO 8601 in the programme's time zone, to the
        minute, with its offset ("2026-01-01T08:00+08:00"), so that it goes back in unchanged."""
        return "" if value is None else self.local(value).isoformat(timespec="minutes")

    def local(self, value):
        """A stored moment (UTC; naive from SQLite) in the programme's time zone."""
        return as_utc(value).astimezone(self.timezone)

    def percent(self, rate) -> str:
        return "" if rate is None else format_decimal(Decimal(rate) * 100, locale=self.locale) + "%"


def formatter(request) -> Formatter:
    return Formatter(request.locale_name, request.programme.timezone, request.lps_settings.currency)


def label(request, kind, value) -> str:
    """The name of a stored code in the page's language; a code without a label, as it is."""
    text = request.registry.getUtility(ILabels).get(kind, value)
    return request.localizer.translate(text) if isinstance(text, TranslationString) else str(text)


@subscriber(BeforeRender)
def template_helpers(event):
    """`_` translates (in the `lps` domain unless a TranslationString says otherwise), `fmt` formats,
    `label(kind, value)` names a stored code (lps_core.labels)."""
    request = event.get("request")
    # Only templates use them: a JSON answer (the API's "json" renderer) would negotiate the locale
    # and build the formatter for nothing, on every earn request.
    if request is None or not event.get("renderer_name", "").endswith(".pt") or "fmt" in event:
        return
    localizer = request.localizer
    event["_"] = lambda text, mapping=None: localizer.translate(
        text if hasattr(text, "domain") else _(text, mapping=mapping))
    event["fmt"] = request.fmt
    event["label"] = lambda kind, value: label(request, kind, value)
    event["locales"] = LOCALES


@view_config(route_name="locale", permission=NO_PERMISSION_REQUIRED, require_csrf=False)
def switch_locale(request):
    """Remember the operator's language and go back to the page they were on."""
    code = request.matchdict["code"]
    target = request.params.get("next", "/")
    if not (target.startswith("/") and not target.startswith("//")):
        target = "/"
    response = HTTPSeeOther(target)
    if code in LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    return response


def includeme(config):
    config.include("lps_core.labels")
    config.add_translation_dirs("lps_core:locale/")
    config.set_locale_negotiator(negotiate_locale)
    config.add_request_method(formatter, "fmt", reify=True)
    config.add_route("locale", "/locale/{code}")
    config.scan("lps_core.screens.shell.i18n")

