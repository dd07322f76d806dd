"""Input schemas of the exchange API: a quote, a transfer, a reversal, and the paths naming an
exchange partner or one of its transfers. The OpenAPI document is generated from these models.
Whether the partner exists (404), is on at the key's outlet, and the amount fits its minimum, step
and limits (422) are checked by the services. Below them, the reconciliation's inputs (API and staff
forms) and the staff screens' searches."""
from typing import Literal

from pydantic import model_validator

from lps_core.cards.schemas import CardNo
from lps_core.contract.exchange import IN, MAX_POINTS, OUT
from lps_core.exchange.models import MISMATCH_STATUSES, STATUSES
from lps_core.exchange.reconciliation import Resolution
from lps_core.exchange.services import TransferRequest
from lps_core.validation import Body, Code, Field, Id, Int, LenientQuery, PastDate, Query, Text, unprocessable

Direction = Literal[IN, OUT]
Points = Int(1, MAX_POINTS, description="LPS points for direction out, the partner's points for direction in")
Reference = Code(64, description="The partner's reference of the transfer: its idempotency key")


class QuoteIn(Body):
    direction: Direction
    points: Points


class TransferIn(Body):
    """Move points between the member of `card_no` and their account `partner_member_no` at the
    partner. A resend with the same reference and content answers the transfer already made."""

    direction: Direction
    card_no: CardNo
    points: Points
    reference: Reference
    partner_member_no: Text(64, description="The member's number in the partner's programme",
                            example="AM1234567")

    def request(self, partner) -> TransferRequest:
        return TransferRequest(partner, self.direction, self.card_no, self.points, self.reference,
                               self.partner_member_no)


class ReversalIn(Body):
    """The body may be left out, or be {}; `direction` is needed only for a reference used both ways."""

    direction: Direction | None = Field(None, description="Which transfer, when the reference was used both ways")


class TransferQuery(Query):
    direction: Direction | None = None


class ExchangePath(Query):
    partner: Code(64, description="The exchange partner's name, as `lps plugins` lists it")


class TransferPath(ExchangePath):
    reference: Reference


# -- reconciliation ---------------------------------------------------------------------------------

MAX_ADJUSTMENT = 10_000_000
Day = PastDate


class ReconcileIn(Body):
    """Compare the partner's statement of the days `first_day` to `last_day` (both included, in
    the programme's time zone) with LPS's transfers, and keep the mismatches found."""

    first_day: Day
    last_day: Day
    settle: bool = Field(False, description="Complete the open transfers that the statement shows booked")

    @model_validator(mode="after")
    def in_order(self):
        if self.last_day < self.first_day:
            raise unprocessable("last_day", "must be on or after first_day")
        return self


class MismatchQuery(Query):
    first_day: Day | None = None
    last_day: Day | None = None
    status: Literal[MISMATCH_STATUSES] | None = None


class MismatchPath(ExchangePath):
    id: Id


class ResolutionIn(Body):
    """Resolve a mismatch. `points`: LPS points posted to the member as a linked adjustment (+ credit,
    - debit; 0 posts none); an open transfer is first finished as the statement shows it."""

    points: Int(-MAX_ADJUSTMENT, MAX_ADJUSTMENT, description="Signed LPS points of the adjustment; 0 for none")
    reason: Text(500, description="Why: kept with the mismatch, in the ledger entry's note and the audit log")
    card_no: CardNo | None = Field(None, description="The member's card, when LPS has no transfer naming the member")

    def resolution(self) -> Resolution:
        return Resolution(self.points, self.reason, self.card_no)


# -- staff screens ----------------------------------------------------------------------------------

class TransferSearchForm(LenientQuery):
    """The search of the exchange transfers list (its sort and page are read by the list helper)."""

    partner: Code(64) | None = None
    direction: Direction | None = None
    status: Literal[STATUSES] | None = None
    reference: Code(64) | None = None
    card_no: Code(32) | None = None
    outlet: Code() | None = None
    first_day: Day | None = None
    last_day: Day | None = None


class ReconcileForm(LenientQuery):
    partner: Code(64)
    first_day: Day
    last_day: Day
    settle: bool = False

    @model_validator(mode="after")
    def in_order(self):
        if self.last_day < self.first_day:
            raise unprocessable("last_day", "must be on or after the first day")
        return self


class ReportForm(LenientQuery):
    partner: Code(64) | None = None
    first_day: Day | None = None
    last_day: Day | None = None
    status: Literal[MISMATCH_STATUSES] | None = None


class ResolveForm(LenientQuery):
    points: Int(-MAX_ADJUSTMENT, MAX_ADJUSTMENT)
    reason: Text(500)
    card_no: Code(32) | None = None

    def resolution(self) -> Resolution:
        return Resolution(self.points, self.reason, self.card_no)
