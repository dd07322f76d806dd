"""Input schemas of the website API (lps_core.http.website): one model per body, query string and
path, built from lps_core.validation's types, so the OpenAPI document shows exactly what is checked."""
import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import PlainValidator, WithJsonSchema, model_validator

from lps_core.members.schemas import Gender, IdNumber
from lps_core.rewards.schemas import RedemptionNo, RewardCode
from lps_core.settings import MESSAGE_LANGUAGES
from lps_core.validation import (
    Body,
    Code,
    ConfigTime,
    Email,
    Field,
    Id,
    Int,
    PastDate,
    Query,
    Text,
    invalid,
    unprocessable,
)

MAX_PASSWORD = 200
MAX_LIMIT = 500
DEFAULT_LIMIT = 100

# The website's own reference for a sign-up: its user id or form id, letters, digits and . _ : -
REFERENCE_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
_REFERENCE = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")


def _check_reference(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("must be a string")
    if not _REFERENCE.match(value):
        raise invalid("must be 1 to 64 letters, digits, '.', '_', ':' or '-'")
    return value


Reference = Annotated[str, PlainValidator(_check_reference), WithJsonSchema({
    "type": "string", "pattern": REFERENCE_PATTERN, "maxLength": 64, "example": "web-user-10042",
    "description": "The website's own reference for the sign-up (its user id): a resend with the same "
                   "reference and details answers the member it made"})]


def _check_password(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("must be a string")
    if not value or len(value) > MAX_PASSWORD:
        raise invalid(f"must be 1 to {MAX_PASSWORD} characters")
    if "\x00" in value:
        raise invalid("must not contain NUL characters")
    return value


# A password as the member typed it: checked as it is (never trimmed), at most 200 characters.
Password = Annotated[str, PlainValidator(_check_password), WithJsonSchema({
    "type": "string", "minLength": 1, "maxLength": MAX_PASSWORD, "pattern": "^[^\\x00]*$"})]


def _check_address(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 45:
        raise invalid("must be the browser's IP address, such as 203.0.113.7 or 2001:db8::7")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise invalid("must be the browser's IP address, such as 203.0.113.7 or 2001:db8::7") from None


ClientAddress = Annotated[str, PlainValidator(_check_address), WithJsonSchema({
    "type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}], "maxLength": 45, "example": "203.0.113.7",
    "description": "The member's browser's IP address as the website saw it: failures are counted per address"})]

# Where the portal opens after a handover: one of its pages.
NEXT_PATTERN = r"^/portal(/[a-z-]{1,40}){0,2}$"
_NEXT = re.compile(r"/portal(/[a-z-]{1,40}){0,2}\Z")


def _check_next(value: Any) -> str:
    if not isinstance(value, str) or not _NEXT.match(value):
        raise invalid("must be a page of the portal, such as /portal or /portal/rewards")
    return value


PortalPath = Annotated[str, PlainValidator(_check_next), WithJsonSchema({
    "type": "string", "pattern": NEXT_PATTERN, "maxLength": 90, "example": "/portal/rewards"})]


class SignUpIn(Body):
    """A member's sign-up on the website: it waits in the approval queue like the desk's and the
    portal's. A phone number or an e-mail address is required; the password, if given, is the
    member's portal password (and what sign-in verification checks)."""

    reference: Reference
    name: Text(200, example="Li Wei")
    phone: Text(32, example="+86 138 0000 0042") | None = None
    email: Email | None = None
    birthday: PastDate | None = None
    gender: Gender = "unspecified"
    id_number: IdNumber | None = None
    address: Text(500) | None = None
    referrer_card_no: Text(40, description="Card of the member who referred them") | None = None
    language: Literal[MESSAGE_LANGUAGES] | None = Field(None, description="The language of the member's "
                                                                          "messages")
    password: Password | None = None
    force_duplicate_phone: bool = Field(False, description="Sign up even if a member holds this phone number "
                                                           "already (a shared family number)")

    @model_validator(mode="after")
    def phone_or_email(self):
        if self.phone is None and self.email is None:
            raise unprocessable("phone", "give a phone number or an e-mail address")
        return self

    def enrolment(self) -> dict:
        """The fields of the members' enrolment (lps_core.members.services.clean_enrolment)."""
        fields = self.model_dump(include={"name", "phone", "email", "birthday", "gender", "id_number", "address",
                                          "referrer_card_no"}, exclude_none=True)
        if "birthday" in fields:
            fields["birthday"] = fields["birthday"].isoformat()
        return {**fields, "channel": "web"}


class SignUpPath(Query):
    reference: Reference


class SignInIn(Body):
    """A member's identifier and password as typed on the website's sign-in form."""

    identifier: Text(64, description="The member's card number or phone number", example="8800000000018")
    password: Password
    address: ClientAddress


class HandoverIn(Body):
    member_id: Id
    next: PortalPath = Field("/portal", description="The portal page to open")


class MemberPath(Query):
    id: Id


class LedgerQuery(Query):
    page: Int(1, 100_000) = 1
    per_page: Int(1, 200) = 50


class ReservationIn(Body):
    """Reserving a reward for pick-up: idempotent on request_key per member."""

    reward: RewardCode = Field(description="Reward code")
    outlet: Code(description="Where the member picks it up (an outlet code)")
    request_key: Text(40, description="The website's idempotency key for this reservation")


class ReservationPath(Query):
    id: Id
    no: RedemptionNo


# --- Incremental sync -------------------------------------------------------------------------------

CURSOR_PATTERN = r"^[A-Za-z0-9_-]{23}$"
_CURSOR = re.compile(r"[A-Za-z0-9_-]{23}\Z")


def _check_cursor(value: Any) -> str:
    if not isinstance(value, str) or not _CURSOR.match(value):
        raise invalid("must be the next_cursor of an earlier page, as it was given")
    return value


Cursor = Annotated[str, PlainValidator(_check_cursor), WithJsonSchema({
    "type": "string", "pattern": CURSOR_PATTERN, "minLength": 23, "maxLength": 23,
    "description": "The next_cursor of the previous page, as it was given (opaque)"})]


class SyncQuery(Query):
    """A page of a sync list: rows changed since `changed_since` (or after `cursor`), oldest change first."""

    changed_since: ConfigTime | None = Field(None, description="Only rows changed at or after this moment "
                                                               "(with a time-zone offset)")
    cursor: Cursor | None = None
    limit: Int(1, MAX_LIMIT, description=f"Rows per page, at most {MAX_LIMIT}") = DEFAULT_LIMIT
