"""Input schemas of bulk exchange: one row of each kind of import file (every cell arrives as text),
and the export's, upload's, preview's and resolution's parameters on the screen, the CLI and the API.

A blank cell is no value: in a change it leaves the field as it is (an import never clears a field)."""
from typing import Literal

from pydantic import field_validator, model_validator

from lps_core.bulk.files import ENCODINGS, FORMATS
from lps_core.bulk.models import ACTIONS, KINDS
from lps_core.cards.services import normalize_card_no
from lps_core.errors import ValidationFailed
from lps_core.members.schemas import Gender, IdNumber
from lps_core.validation import (
    Body,
    Code,
    Email,
    Field,
    Id,
    Int,
    LenientQuery,
    PastDate,
    Query,
    Text,
    invalid,
    unprocessable,
)

EXPORT_KINDS = ("members", "cards", "balances")
MAX_POINTS = 10**9


class MemberRow(LenientQuery):
    """A member: `member_id` names one LPS knows (a change); without it the phone number, then the
    e-mail address, finds the member, and a row that finds none is a new member."""

    member_id: Id | None = None
    name: Text(200) | None = None
    phone: Text(32) | None = None
    email: Email | None = None
    birthday: PastDate | None = None
    gender: Gender | None = None
    id_number: IdNumber | None = None
    address: Text(500) | None = None


class CardRow(LenientQuery):
    """A card number made elsewhere (printed cards): added to the pool, or issued to `member_id`."""

    card_no: Text(40)
    card_type: Code(32) | None = None
    member_id: Id | None = None

    @field_validator("card_no")
    @classmethod
    def check_digit(cls, card_no):
        try:
            return normalize_card_no(card_no)
        except ValidationFailed as exc:
            raise invalid(exc.fields["card_no"]) from None


class PointsRow(LenientQuery):
    """A points adjustment: points to add (or, negative, to take away) with the reason the member's
    ledger shows. `reference` names the adjustment for good, so that another file naming it again
    posts nothing; without one the file and the row name it."""

    member_id: Id | None = None
    card_no: Text(40) | None = None
    points: Int(-MAX_POINTS, MAX_POINTS)
    reason: Text(500)
    reference: Code(64) | None = None

    @field_validator("card_no")
    @classmethod
    def check_digit(cls, card_no):
        if card_no is None:
            return None
        try:
            return normalize_card_no(card_no)
        except ValidationFailed as exc:
            raise invalid(exc.fields["card_no"]) from None

    @model_validator(mode="after")
    def names_member(self):
        if self.points == 0:
            raise unprocessable("points", "must not be 0")
        if self.member_id is None and self.card_no is None:
            raise unprocessable("member_id", "give the member's number or a card number")
        return self


ROW_SCHEMAS = {"members": MemberRow, "cards": CardRow, "points": PointsRow}
# Columns an export writes that an import reads past: a file exported by LPS can be imported again.
READ_ONLY_COLUMNS = {
    "members": ("status", "tier", "enrolled_at", "points_balance"),
    "cards": ("status", "issued_at", "valid_to"),
    "points": ("name", "points_balance", "last_posting_at"),
}
# A members file that only changes members needs no name column: a new member's row needs a name.
REQUIRED_COLUMNS = {"members": (), "cards": ("card_no",), "points": ("points", "reason")}


class ImportForm(LenientQuery):
    """An upload: what the file holds, and how a CSV file's text is encoded."""

    kind: Literal[KINDS]
    encoding: Literal[ENCODINGS] = "utf-8"
    file_format: Literal[FORMATS] | None = Field(None, description="What the file is; told by its name if left out")


class ExportQuery(LenientQuery):
    kind: Literal[EXPORT_KINDS]
    format: Literal[FORMATS] = "csv"
    changed_since: PastDate | None = Field(None, description="Only what changed on or after this day (lps.timezone)")


class RowsQuery(LenientQuery):
    """The preview's page of rows: one action or every one."""

    action: Literal[ACTIONS] | None = None
    page: Int(1, 100_000) = 1
    per_page: Int(1, 500) = 50


class ResolutionForm(LenientQuery):
    """How to settle a conflict: skip the row, apply it (the file's row wins), or apply it to the
    record chosen among those it matches (target:<id>)."""

    row_no: Int(1, 10_000_000)
    resolution: Text(24)


class ExportPath(Query):
    kind: Literal[EXPORT_KINDS]


class ExportFileQuery(Query):
    format: Literal[FORMATS] = "csv"
    changed_since: PastDate | None = Field(None, description="Only what changed on or after this day (lps.timezone)")


class ImportKindPath(Query):
    kind: Literal[KINDS]


class ImportFileQuery(Query):
    """How to read the file sent as the request's body."""

    file_name: Text(200) | None = Field(None, description="Kept with the batch; its extension must agree with the file")
    file_format: Literal[FORMATS] | None = Field(None, description="What the file is; told by its content if left out")
    encoding: Literal[ENCODINGS] = "utf-8"


class BatchPath(Query):
    id: Id


class BatchRowsQuery(Query):
    action: Literal[ACTIONS] | None = None
    page: Int(1, 100_000) = 1
    per_page: Int(1, 500) = 50


class ResolutionIn(Body):
    row_no: Int(1, 10_000_000, description="The conflict's row")
    resolution: Text(24, description="skip, apply, or target:<member id> among the conflict's options")
