"""Input schemas of the exchange API: a quote, a transfer, a reversal, and the paths naming an
exchange partner or one of its transfers. The OpenAPI document is generated from these models.
Whether the partner exists (404), is on at the key's outlet, and the amount fits its minimum, step
and limits (422) are checked by the services."""
from typing import Literal

from lps_core.cards.schemas import CardNo
from lps_core.contract.exchange import IN, MAX_POINTS, OUT
from lps_core.exchange.services import TransferRequest
from lps_core.validation import Body, Code, Field, Int, Query, Text

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
