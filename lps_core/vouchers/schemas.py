"""Input schemas of the vouchers API: issuing a batch, voiding one, and the path naming a voucher.
The OpenAPI document is generated from these models. Rules that need the clock or the database (a
valid_to already past, an unknown or another outlet's voucher, voiding a redeemed one) are checked
by the services and answer 422, 404 or 409."""
import re
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema, model_validator

from lps_core.validation import (
    Body,
    ConfigTime,
    Field,
    Int,
    Money,
    Query,
    Text,
    invalid,
    unprocessable,
)
from lps_core.vouchers.services import MAX_CODE_LENGTH, Issue, normalize_code

MAX_ISSUED_PER_REQUEST = 100
REASON_MAX = 200
_CODE = re.compile(rf"[A-Za-z0-9-]{{1,{MAX_CODE_LENGTH + 8}}}\Z")


def _voucher_code(value: Any) -> str:
    """A voucher's code as printed or typed (case and dashes do not matter), as stored."""
    if not isinstance(value, str) or not _CODE.match(value):
        raise invalid("must be a voucher code such as V2ABCD3EFGH4J: letters, digits and '-'")
    code = normalize_code(value)
    if not 1 <= len(code) <= MAX_CODE_LENGTH:
        raise invalid(f"must have 1 to {MAX_CODE_LENGTH} letters and digits")
    return code


VoucherCode = Annotated[str, PlainValidator(_voucher_code), WithJsonSchema(
    {"type": "string", "pattern": rf"^[A-Za-z0-9-]{{1,{MAX_CODE_LENGTH + 8}}}$", "example": "V2ABCD3EFGH4J"})]


class VoucherIssueIn(Body):
    """Issue `count` vouchers of one face value, valid from `valid_from` (now if left out) until
    `valid_to`. They are the key's outlet's, taken at that outlet only, unless `programme_wide`."""

    value: Money = Field(description="The face value: what one voucher pays at most")
    valid_to: ConfigTime = Field(description="The end of the validity (excluded); in the future")
    valid_from: ConfigTime | None = None
    count: Int(1, MAX_ISSUED_PER_REQUEST, description="How many vouchers to issue; default 1") = 1
    programme_wide: bool = Field(False, description="Taken at every outlet, not only the key's")

    @model_validator(mode="after")
    def _validity(self):
        if self.valid_from is not None and self.valid_to <= self.valid_from:
            raise unprocessable("valid_to", "must come after valid_from")
        return self

    def issue(self, outlet_code) -> Issue:
        return Issue(self.count, self.value, self.valid_to, self.valid_from,
                     None if self.programme_wide else outlet_code)


class VoucherVoidIn(Body):
    """The body may be left out, or be {}."""

    reason: Text(REASON_MAX) | None = None


class VoucherPath(Query):
    code: VoucherCode
