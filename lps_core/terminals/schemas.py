"""Input schemas of terminals: a swipe as the agent sends it (the API, which also feeds the OpenAPI
document), the registration form of the staff screen, and the cashier screen's poll for swipes."""
import re
from typing import Annotated, Any

from pydantic import Field, PlainValidator, WithJsonSchema, field_validator, model_validator

from lps_core.cards.schemas import CardNo, card_no_named
from lps_core.cards.tags import normalize_tag_id
from lps_core.errors import ValidationFailed
from lps_core.terminals.services import SwipeIn
from lps_core.validation import Body, Code, Id, LenientQuery, Text, invalid, unprocessable

MAX_EXPIRES_IN = 300  # seconds: a swipe is for the guest at the till now, not for later
_SWIPE_ID = re.compile(r"[A-Za-z0-9-]{8,64}\Z")


def _swipe_id(value: Any) -> str:
    if not isinstance(value, str) or not _SWIPE_ID.match(value):
        raise invalid("must be 8 to 64 letters, digits or '-', such as a UUID")
    return value


def _tag_id(value: Any) -> str:
    try:
        return normalize_tag_id(value)
    except ValidationFailed as exc:
        raise invalid(exc.fields["tag_id"]) from None


def _expires_in(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid("must be a number of seconds")
    if not 0 < value <= MAX_EXPIRES_IN:
        raise invalid(f"must be more than 0 and at most {MAX_EXPIRES_IN} seconds")
    return float(value)


SwipeId = Annotated[str, PlainValidator(_swipe_id), WithJsonSchema({
    "type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$", "example": "3f1c2a9e-5b7d-4c1e-9a2f-8d6b0e4c7a11",
    "description": "The agent's id of the swipe: a swipe sent again with the same id is stored once"})]
TagId = Annotated[str, PlainValidator(_tag_id), WithJsonSchema({
    "type": "string", "maxLength": 64, "example": "0A1B2C3D4E",
    "description": "An RFID/NFC tag's id as the reader gives it (4 to 32 letters and digits; : - and spaces "
                   "are ignored)"})]
ExpiresIn = Annotated[float, PlainValidator(_expires_in), WithJsonSchema({
    "type": "number", "exclusiveMinimum": 0, "maximum": MAX_EXPIRES_IN, "example": 28.5,
    "description": "Seconds the swipe has left: once they have passed no cashier screen receives it"})]


class SwipeBody(Body):
    """One swipe: a card number (a magnetic stripe or a keyboard-style reader) or a tag id, never both,
    and never a PIN."""

    id: SwipeId
    card_no: CardNo | None = None
    tag_id: TagId | None = None
    expires_in: ExpiresIn

    @field_validator("card_no")
    @classmethod
    def check_digit(cls, card_no):
        return card_no_named(card_no) if card_no is not None else None

    @model_validator(mode="after")
    def card_or_tag(self):
        if (self.card_no is None) == (self.tag_id is None):  # the schema allows both: 422, not 400
            raise unprocessable("card_no", "give exactly one of card_no or tag_id")
        return self

    def swipe(self) -> SwipeIn:
        return SwipeIn(self.id, self.card_no, self.tag_id, self.expires_in)


class TerminalForm(LenientQuery):
    """The registration form of a terminal (its outlet is fixed once registered)."""

    name: Text(100)
    outlet: Code() | None = None
    operators: list[Id] = Field(default_factory=list)


class SwipePoll(LenientQuery):
    """The cashier screen's poll: the outlet its screen works for, and the page's own random id."""

    outlet: Code()
    page: Code(64) | None = None
