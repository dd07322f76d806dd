"""Input schemas of members: enrolment (API and desk) and approval, and the member screens' forms."""
import re
from typing import Annotated, Any, Literal

from pydantic import PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from lps_core.errors import LpsError
from lps_core.members.models import (
    CONTACT_CHANNELS,
    ENROLMENT_CHANNELS,
    GENDERS,
    MEMBER_STATUSES,
)
from lps_core.validation import (
    WHITESPACE,
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
    unprocessable,
    validate,
)

Channel = Literal[ENROLMENT_CHANNELS]
_ID_NUMBER = re.compile(r"[0-9A-Za-z-]{5,32}\Z")


def _check_id_number(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("lps", "must be a string")
    if not _ID_NUMBER.match(value):
        raise PydanticCustomError("lps", "must be 5 to 32 letters, digits or dashes")
    return value.upper()


# An identity document's number, kept in capitals (its blind index is of the capitals too).
IdNumber = Annotated[str, PlainValidator(_check_id_number), WithJsonSchema({
    "type": "string", "pattern": "^[0-9A-Za-z-]{5,32}$", "maxLength": 32, "example": "11010519491231002X"})]
Gender = Literal[GENDERS]


class EnrolmentIn(Body):
    """A member's enrolment; a phone number or an e-mail address is required. The phone number and the
    referrer's card are normalised by the service (E.164, check digit)."""

    name: Text(200, example="Li Wei")
    channel: Channel
    phone: Text(32, example="+86 138 0000 0042") | None = None
    email: Email | None = None
    birthday: PastDate | None = None
    gender: Gender = "unspecified"
    id_number: IdNumber | None = None
    address: Text(500) | None = None
    referrer_card_no: Text(40, description="Card of the member who referred them") | None = None
    force_duplicate_phone: bool = Field(False, description="Enrol even if another member has this phone number")

    @model_validator(mode="after")
    def phone_or_email(self):
        if self.phone is None and self.email is None:
            raise unprocessable("phone", "give a phone number or an e-mail address")
        return self


class ApprovalIn(Body):
    card_type: Code(description="Card type to issue; default: the programme's default type") | None = None


class MemberPath(Query):
    id: Id


class RejectionForm(LenientQuery):
    """Turning down a pending enrolment: the reason is kept."""

    reason: Text(500)


# --- Staff forms of the member screens -------------------------------------------------------------
# A form carries text, and an empty field is an absent one: `filled` keeps the fields staff typed
# something into, for the model to check (a required one left empty is then "is required").

def filled(params, names) -> dict:
    """The fields `names` of a form that are not blank; a value that is not text (a file) is kept
    for the model to refuse."""
    given = {}
    for name in names:
        value = params.get(name)
        if isinstance(value, str):
            value = value.strip(WHITESPACE)
        if value is None or value == "":
            continue
        given[name] = value
    return given


PROFILE_FIELDS = ("name", "phone", "email", "birthday", "gender", "id_number", "address")
ENROL_FIELDS = (*PROFILE_FIELDS, "referrer_card_no")


def enrolment_form(params, names=ENROL_FIELDS) -> dict:
    """The enrolment (or profile) form as the fields of the API's enrolment body, for the same model
    (EnrolmentIn, through lps_core.members.services.clean_enrolment) to check both."""
    return {**filled(params, names), "channel": "desk"}


MAX_ADJUSTMENT = 10_000_000


class AdjustmentForm(LenientQuery):
    """Points added (positive) or taken away (negative) by hand, with a reason."""

    points: Int(-MAX_ADJUSTMENT, MAX_ADJUSTMENT)
    reason: Text(500)
    outlet: Code() | None = None
    request_key: Text(64) | None = None

    @model_validator(mode="after")
    def not_zero(self):
        if self.points == 0:
            raise unprocessable("points", f"must be a whole number other than 0, at most {MAX_ADJUSTMENT} either way")
        return self


class FamilyMemberForm(LenientQuery):
    name: Text(200)
    relation: Text(50)
    birthday: PastDate | None = None


class PreferencesForm(LenientQuery):
    """The free-text preferences; an empty one is removed."""

    room: Text(500) | None = None
    pillow: Text(500) | None = None
    dietary: Text(500) | None = None


class ContactForm(LenientQuery):
    channel: Literal[CONTACT_CHANNELS]
    note: Text(4000)


class CardStatusForm(LenientQuery):
    status: Literal["frozen", "active"]
    reason: Text(200)


class CardReplacementForm(LenientQuery):
    reason: Text(200)
    new_card_no: Text(32) | None = None
    outlet: Code() | None = None


class OutletForm(LenientQuery):
    """The outlet a form is done for (its code; the view checks it is in the operator's scope)."""

    outlet: Code() | None = None


def read_form(model, params):
    """`params` (a form) checked by `model`, its blank fields left out."""
    return validate(model, filled(params, model.model_fields), message="the form has invalid fields")


# --- The member search ------------------------------------------------------------------------------

MAX_BALANCE = 10**12 - 1


class MemberSearchQuery(LenientQuery):
    """The member search's criteria, any combination; blank ones are left out (see `search_query`)."""

    card_no: Text(40) | None = None
    name: Text(200) | None = None
    phone: Text(32) | None = None
    id_number: Text(32) | None = None
    tier: Code() | None = None
    card_type: Code() | None = None
    outlet: Code() | None = None
    enrolled_from: PastDate | None = None
    enrolled_to: PastDate | None = None
    balance_min: Int(-MAX_BALANCE, MAX_BALANCE) | None = None
    balance_max: Int(-MAX_BALANCE, MAX_BALANCE) | None = None
    birthday_month: Int(1, 12) | None = None
    status: Literal[MEMBER_STATUSES] | None = None


def search_query(params) -> tuple[MemberSearchQuery, dict]:
    """The search's criteria and the errors of the bad ones: each bad criterion is named, and the
    good ones still apply."""
    given = filled(params, MemberSearchQuery.model_fields)
    try:
        return validate(MemberSearchQuery, given), {}
    except LpsError as exc:
        errors = {name: message for name, message in exc.fields.items() if name in given}
        return validate(MemberSearchQuery, {name: value for name, value in given.items() if name not in errors}), errors
