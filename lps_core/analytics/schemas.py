"""The filters of the analytics views, for the API's query string (and the OpenAPI document), the
screens' forms. They are the reports' filters (period, outlets; lps_core.reports.schemas), rows
per week as well as per day or month, the enrolment channel, and for the RFM view a quadrant
whose members to list, page by page. A value that does not match is 400 naming its field."""
from typing import Literal

from pydantic import Field

from lps_core.members.models import ENROLMENT_CHANNELS
from lps_core.reports.schemas import ReportFilters
from lps_core.validation import Int, LenientQuery

QUADRANTS = ("keep", "develop", "retain", "win_back")
ANALYTICS_GRAINS = ("day", "week", "month")
MAX_PER_PAGE = 500


class AnalyticsFilters(ReportFilters):
    """Without a period, the twelve months up to today (a trend needs more than one month)."""

    group_by: Literal[ANALYTICS_GRAINS] | None = Field(None, description="Rows per day, week or month; by default "
                                                                           "per day for up to 62 days, else per month")
    channel: Literal[ENROLMENT_CHANNELS] | None = Field(None, description="Members who enrolled through this channel")
    quadrant: Literal[QUADRANTS] | None = Field(None, description="RFM: list the members of this quadrant")
    page: Int(1, 100_000) = 1
    per_page: Int(1, MAX_PER_PAGE) = 50


class ScreenFilters(AnalyticsFilters):
    model_config = LenientQuery.model_config
