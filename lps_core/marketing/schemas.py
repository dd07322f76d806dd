"""Input schemas of segments and campaigns (API bodies, staff forms, the OpenAPI document). What
needs the database (a tier, card type or outlet code that exists, a segment that exists) is checked
by the services and answers 422 naming the field."""
from typing import Literal

from lps_core.analytics.schemas import QUADRANTS
from lps_core.members.models import GENDERS
from lps_core.money import format_cents
from lps_core.validation import Body, Code, ConfigTime, Field, Id, Int, LenientQuery, MoneyOrZero, Text

MAX_CODES = 50
STATUSES = ("active", "dormant", "suspended")
CONSENT_CHANNELS = ("email", "sms")
Codes = list[Code()] | None


class SegmentDefinition(Body):
    """Every condition given must hold (AND); a list matches any of its values (OR). Left out:
    no condition. Behaviour is read over the trailing `window_months` calendar months."""

    statuses: list[Literal[STATUSES]] = Field(["active", "dormant"], min_length=1, description="Member statuses")
    tiers: Codes = Field(None, min_length=1, max_length=MAX_CODES, description="Tier codes")
    card_types: Codes = Field(None, min_length=1, max_length=MAX_CODES,
                              description="Card type codes of the member's active cards")
    enrolment_outlets: Codes = Field(None, min_length=1, max_length=MAX_CODES, description="Outlet codes enrolled at")
    enrolment_channels: list[Text(8)] | None = Field(None, min_length=1, max_length=MAX_CODES)
    birthday_months: list[Int(1, 12)] | None = Field(None, min_length=1, max_length=12)
    genders: list[Literal[GENDERS]] | None = Field(None, min_length=1)
    visited_within_days: Int(1, 3660) | None = Field(None, description="Last visit at most this many days ago")
    absent_days: Int(1, 3660) | None = Field(None, description="No visit for at least this many days (or never)")
    window_months: Int(1, 36) = Field(12, description="The trailing window of visits, spend, outlets, categories")
    visits_min: Int(0, 1_000_000) | None = None
    visits_max: Int(0, 1_000_000) | None = None
    spend_min: MoneyOrZero | None = Field(None, description="Spend in the window at least")
    spend_max: MoneyOrZero | None = Field(None, description="Spend in the window at most")
    visited_outlets: Codes = Field(None, min_length=1, max_length=MAX_CODES,
                                   description="A bill at one of these outlets in the window")
    categories: list[Text(64)] | None = Field(None, min_length=1, max_length=MAX_CODES,
                                              description="A bill item of one of these categories in the window")
    rfm_quadrants: list[Literal[QUADRANTS]] | None = Field(None, min_length=1,
                                                           description="RFM quadrants (lps_core.analytics)")
    churn_risk: bool | None = Field(
        None, description="true: the members the churn warning flags (no visit for lps.analytics.churn_days days "
                          "and lps.analytics.churn_factor of their own usual intervals); false: those it does not")
    consent: list[Literal[CONSENT_CHANNELS]] | None = Field(
        None, min_length=1, description="Agreed to marketing on at least one of these channels")

    def stored(self) -> dict:
        """The definition as a segment keeps it, read back by model_validate: money as decimal text
        (as the API takes it), not the cents a plain dump gives."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        for name in ("spend_min", "spend_max"):
            if data.get(name) is not None:
                data[name] = format_cents(data[name])
        return data


class SegmentIn(Body):
    name: Text(100)
    description: Text(500) | None = None
    definition: SegmentDefinition = Field(default_factory=SegmentDefinition)


class SegmentPath(LenientQuery):
    id: Id


class PreviewQuery(LenientQuery):
    limit: Int(1, 200) = 50


class CampaignIn(Body):
    name: Text(100)
    segment_id: Id
    subject: Text(200) = Field(description="The e-mail's subject; {member_name} is filled in")
    body: Text(4000) = Field(description="The message; {member_name} is filled in")
    channels: list[Literal["inbox", "email", "sms"]] | None = Field(None, min_length=1,
                                                                   description="null: every channel")
    send_at: ConfigTime | None = Field(None, description="When `lps jobs campaigns` sends it; null: a draft")
    control_percent: Int(0, 50) = Field(0, description="Share of the segment held out as the control group")
    bonus_points: Int(0, 1_000_000) = 0
    coupon_type_code: Code() | None = Field(None, description="A coupon type issued to each recipient")


class CampaignPath(LenientQuery):
    id: Id


class CampaignAction(Body):
    action: Literal["schedule", "cancel"]
    send_at: ConfigTime | None = None
