"""Input schemas of appeals, for the API (JSON bodies and query strings, which also feed the OpenAPI
document) and the staff forms. Rules that need the clock, the settings or the database (a bill
older than postings may be back-dated, an amount above the outlet's limit, a card that is not the
member's, an appeal already settled) are checked by the services and answer 422, 404 or 409."""
from typing import Literal

from pydantic import field_validator

from lps_core.appeals.models import STATUSES
from lps_core.appeals.services import MAX_NOTE, MAX_REASON, Approval, Filing, Search
from lps_core.cards.schemas import CardNo, card_no_named
from lps_core.validation import (
    Body,
    Code,
    Field,
    Id,
    Int,
    LenientQuery,
    Money,
    PastDate,
    PostingTime,
    Query,
    Text,
)

MAX_PER_PAGE = 200


class AppealIn(Body):
    """An appeal filed on a member's behalf: the bill is the key's outlet's."""

    member_id: Id = Field(description="The member's number")
    bill_no: Text(64, description="The bill's number as printed on the receipt", example="R-20261125-0042")
    bill_date: PastDate = Field(description="The bill's date, where the programme is")
    amount: Money = Field(description="What the member paid")
    card_no: CardNo | None = Field(None, description="The member's card; the member's active card if left out")
    note: Text(MAX_NOTE) | None = None
    request_key: Text(64, description="Sent again with a retry: the first appeal is returned") | None = None

    @field_validator("card_no")
    @classmethod
    def check_digit(cls, card_no):
        return card_no_named(card_no) if card_no is not None else None

    def filing(self, outlet_code) -> Filing:
        return Filing(self.member_id, outlet_code, self.bill_no, self.bill_date, self.amount, self.note,
                      self.card_no, None, self.request_key)


class ApproveIn(Body):
    """The body may be left out, or be {}: the bill is then posted as the member told it."""

    occurred_at: PostingTime | None = Field(None, description="The bill's time as the outlet's records show it; "
                                                              "noon of the bill's date if left out")
    amount: Money | None = Field(None, description="The bill's amount as the outlet's records show it; "
                                                   "the member's if left out")
    note: Text(MAX_REASON) | None = None

    def approval(self) -> Approval:
        return Approval(self.occurred_at, self.amount, self.note)


class RejectIn(Body):
    reason: Text(MAX_REASON, description="Told to the member")


class AppealPath(Query):
    id: Id


class AppealSearch(Query):
    """The list's filters; each may be left out."""

    bill_no: Text(64) | None = None
    date_from: PastDate | None = Field(None, description="Bills on or after this date")
    date_to: PastDate | None = Field(None, description="Bills on or before this date")
    member: Code(32, description="The member's number or a card number") | None = None
    status: Literal[STATUSES] | None = None
    overdue: bool = Field(False, description="Only open appeals past their due time")
    page: Int(1, 100_000) = 1
    per_page: Int(1, MAX_PER_PAGE) = 50

    def search(self, outlet_code=None) -> Search:
        return Search(self.bill_no, self.date_from, self.date_to, self.member, outlet_code, self.status,
                      self.overdue)


class AppealSearchForm(LenientQuery):
    """The queue's search on the staff screen (its sort and page are read by the list helper)."""

    bill_no: Text(64) | None = None
    date_from: PastDate | None = None
    date_to: PastDate | None = None
    member: Code(32) | None = None
    outlet: Code(32) | None = None
    status: Literal[STATUSES] | None = None
    overdue: bool = False

    def search(self) -> Search:
        return Search(self.bill_no, self.date_from, self.date_to, self.member, self.outlet, self.status,
                      self.overdue)


class AppealForm(LenientQuery):
    """Staff filing an appeal from the member page (the receipt photo is read beside it)."""

    outlet: Code(32)
    bill_no: Text(64)
    bill_date: PastDate
    amount: Money
    card_no: CardNo | None = None
    note: Text(MAX_NOTE) | None = None
    request_key: Text(64) | None = None


class ApproveForm(LenientQuery):
    occurred_at: Text(40) | None = None  # the bill's time of day, HH:MM, on the bill's date
    amount: Money | None = None
    note: Text(MAX_REASON) | None = None


class RejectForm(LenientQuery):
    reason: Text(MAX_REASON)
