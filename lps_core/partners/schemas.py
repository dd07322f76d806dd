"""Input schemas of partners, for the API (bodies, query strings and paths, which also feed the
OpenAPI document) and the staff forms. Rules that need the database or the clock (a code taken,
a contract version in force, a period not yet ended) are the services' to check (409, 422)."""
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema

from lps_core.earning.schemas import Params
from lps_core.partners.services import KINDS, NewOutlet, NewPartner, Terms
from lps_core.validation import Body, Code, LenientQuery, Money, Query, Text, invalid, unusable

_PRICE = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6})?\Z")
_SHARE = re.compile(r"(?:0(?:\.[0-9]{1,4})?|1(?:\.0{1,4})?)\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_MONTH = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])\Z")


def _price(value: Any) -> Decimal:
    if not isinstance(value, str) or not _PRICE.match(value):
        raise invalid('must be a decimal string such as "0.005": up to 6 digits, then up to 6 decimals')
    return Decimal(value)


def _share(value: Any) -> Decimal:
    if not isinstance(value, str) or not _SHARE.match(value):
        raise invalid('must be a decimal string from "0" to "1" such as "0.5", with up to 4 decimals')
    return Decimal(value)


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise invalid("must be a date such as 2026-11-01")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise invalid("must be a real calendar date such as 2026-11-01") from None
    if not 2000 <= parsed.year <= 2100:
        raise unusable("must lie between the years 2000 and 2100")
    return parsed


def _month(value: Any) -> str:
    if not isinstance(value, str) or not _MONTH.match(value):
        raise invalid("must be a month such as 2026-11")
    return value


PricePerPoint = Annotated[Decimal, PlainValidator(_price), WithJsonSchema({
    "type": "string", "pattern": r"^[0-9]{1,6}(\.[0-9]{1,6})?$", "example": "0.005",
    "description": "Money per LPS point, up to 6 decimals"})]
Share = Annotated[Decimal, PlainValidator(_share), WithJsonSchema({
    "type": "string", "pattern": r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$", "example": "0.5",
    "description": "A fraction from 0 to 1"})]
Day = Annotated[date, PlainValidator(_day), WithJsonSchema({"type": "string", "format": "date",
                                                            "example": "2026-11-01"})]
Month = Annotated[str, PlainValidator(_month), WithJsonSchema({"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$",
                                                               "example": "2026-11"})]


class OutletIn(Body):
    code: Code(description="The outlet's code, unique in the programme")
    name: Text(200)
    formula: Code(64, description="The earning formula (a plugin), base_rate for example") = "base_rate"
    formula_params: Params = Field(default_factory=dict, description="The formula's parameters")


class PartnerIn(Body):
    code: Code(description="The partner's code, unique among properties")
    name: Text(200)
    kind: Literal[KINDS] = Field("partner", description="partner (a merchant of the alliance) or franchise (a store)")
    joined_on: Day | None = Field(None, description="When it joined the programme; today if left out")
    exchange_component: Code(64, description="The exchange partner (plugin) of its own programme") | None = None
    outlets: list[OutletIn] = Field(default_factory=list, max_length=50)

    def new_partner(self) -> NewPartner:
        return NewPartner(self.code, self.name, self.kind, self.joined_on, self.exchange_component,
                          tuple(NewOutlet(o.code, o.name, o.formula, o.formula_params) for o in self.outlets))


class PartnerChangeIn(Body):
    name: Text(200)
    exchange_component: Code(64) | None = None


class StandingIn(Body):
    reason: Text(500) | None = Field(None, description="Why, for the audit log")


class ContractIn(Body):
    effective_from: Day
    issue_cost_per_point: PricePerPoint
    redeem_value_per_point: PricePerPoint
    cobrand_share: Share = Decimal("1")
    note: Text(500) | None = None

    def terms(self) -> Terms:
        return Terms(self.effective_from, self.issue_cost_per_point, self.redeem_value_per_point,
                     self.cobrand_share, self.note)


class AdjustmentIn(Body):
    direction: Literal["from_partner", "to_partner"] = Field(description="from_partner: the partner owes LPS more")
    amount: Money
    reason: Text(500)

    def amount_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-2)


class PartnerPath(Query):
    code: Code()


def period_of(query):
    """The Period a query or form names: from and to (both included), or else a month; 422 naming
    `period` when it names neither. The custom dates win, so that the screen's period form, whose
    month is filled in, opens the period typed into its date fields."""
    from lps_core.errors import Unprocessable
    from lps_core.partners.statements import Period

    if query.from_ is not None and query.to is not None:
        return Period.of(query.from_, query.to)
    if query.period:
        return Period.month(query.period)
    raise Unprocessable("name a month (period) or a custom period (from and to)",
                        {"period": "give a month such as 2026-11, or both from and to"})


class PeriodQuery(Query):
    """A month, or a custom period from one date to another (both included)."""

    period: Month | None = None
    from_: Day | None = Field(None, alias="from")
    to: Day | None = None


class StatementQuery(PeriodQuery):
    format: Literal["json", "csv", "xlsx"] = "json"


class PeriodForm(LenientQuery):
    period: Month | None = None
    from_: Day | None = Field(None, alias="from")
    to: Day | None = None


# -- staff forms (every value arrives as text; blank fields are left out) --------------------------------

class NewPartnerForm(LenientQuery):
    code: Code()
    name: Text(200)
    kind: Literal[KINDS] = "partner"
    joined_on: Day | None = None
    exchange_component: Code(64) | None = None
    outlet_code: Code() | None = None
    outlet_name: Text(200) | None = None

    def new_partner(self) -> NewPartner:
        outlets = ()
        if self.outlet_code:
            outlets = (NewOutlet(self.outlet_code, self.outlet_name or self.outlet_code, "base_rate", {}),)
        return NewPartner(self.code, self.name, self.kind, self.joined_on, self.exchange_component, outlets)


class StandingForm(LenientQuery):
    change: Literal["suspend", "reactivate", "end"]
    reason: Text(500) | None = None


class ContractForm(LenientQuery):
    effective_from: Day
    issue_cost_per_point: PricePerPoint
    redeem_value_per_point: PricePerPoint
    cobrand_share: Share = Decimal("1")
    note: Text(500) | None = None

    terms = ContractIn.terms


class AdjustmentForm(LenientQuery):
    direction: Literal["from_partner", "to_partner"]
    amount: Money
    reason: Text(500)

    amount_decimal = AdjustmentIn.amount_decimal
