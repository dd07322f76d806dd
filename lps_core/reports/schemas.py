"""The filters of a report, for the API's query string (which also feeds the OpenAPI document),
the staff screen's form and `lps report`. Each field is checked on its own here: 400 naming it
when it does not match the document, 422 for a well-formed value LPS cannot use (a date outside
2000-2100, a 13th month). What needs the database or the other fields (an unknown outlet code,
`to` before `from`) is checked by lps_core.reports.scope, which answers 422 naming the field."""
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import PlainValidator, WithJsonSchema

from lps_core.validation import Code, Field, Int, LenientQuery, Money, Query, Text, invalid, unusable

FORMATS = ("json", "csv", "xlsx")
PERIODS = ("day", "month", "range")
GRAINS = ("day", "month")
TRANSACTION_KINDS = ("settlement", "bill", "refund", "redemption")
MAX_PER_PAGE = 500


def _check_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise invalid("must be a date such as 2026-11-25")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise unusable("must be a real calendar date such as 2026-11-25") from None
    if not 2000 <= parsed.year <= 2100:
        raise unusable("must lie between 2000-01-01 and 2100-12-31")
    return parsed


def _check_day_or_month(value: Any) -> str:
    """A day (2026-11-25) or a month (2026-11): the period's date, kept as text until the period
    says which it must be."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}", value):
        _check_date(value + "-01")
        return value
    return _check_date(value).isoformat()


ReportDate = Annotated[date, PlainValidator(_check_date),
                       WithJsonSchema({"type": "string", "format": "date", "example": "2026-11-25"})]
DayOrMonth = Annotated[str, PlainValidator(_check_day_or_month), WithJsonSchema(
    {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$", "example": "2026-11"})]
Flag = Literal["yes", "no"]


class ReportFilters(Query):
    """What every report is filtered by. The period is `day` (date = a day), `month` (date = a month,
    2026-11, or any day in it) or `range` (from and to, both days, inclusive), in the programme's
    time zone; without a date, today or this month. `property`, `partner` and `outlet` narrow the
    outlets (a partner is a property of kind partner)."""

    format: Literal[FORMATS] = Field("json", description="json, csv (UTF-8 with a BOM) or xlsx")
    period: Literal[PERIODS] = "month"
    date: DayOrMonth | None = Field(None, description="The day or month of a day or month period")
    from_: ReportDate | None = Field(None, alias="from", description="The first day of a range")
    to: ReportDate | None = Field(None, description="The last day of a range (inclusive)")
    group_by: Literal[GRAINS] | None = Field(None, description="Rows per day or per month; by default per day "
                                                                 "for up to 62 days, else per month")
    property: Code(32, description="A property's code") | None = None
    partner: Code(32, description="A partner's code (a property of kind partner)") | None = None
    outlet: Code(32, description="An outlet's code") | None = None


class TransactionFilters(ReportFilters):
    """The transactions search: the report's filters and these, each optional."""

    card: Text(32, description="A card number") | None = None
    card_type: Code(32, description="A card type's code") | None = None
    operator: Text(64, description="The operator who took it") | None = None
    kind: Literal[TRANSACTION_KINDS] | None = None
    min_amount: Money | None = Field(None, description="Amounts of at least this")
    max_amount: Money | None = Field(None, description="Amounts of at most this")
    discount: Flag | None = Field(None, description="yes: only discounted bills; no: only bills without a discount")
    page: Int(1, 100_000) = 1
    per_page: Int(1, MAX_PER_PAGE) = 50


class ReportPath(Query):
    name: Text(32)


class ScreenFilters(TransactionFilters):
    """The staff screen's form: the same fields, and whatever else a form carries."""

    model_config = LenientQuery.model_config
