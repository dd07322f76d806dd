"""Input schemas of members: enrolment (API and desk) and approval."""
from typing import Literal

from lps_core.members.models import ENROLMENT_CHANNELS, GENDERS
from pydantic import model_validator

from lps_core.validation import Body, Code, Email, Field, Id, PastDate, Query, Text, unprocessable

Channel = Literal[ENROLMENT_CHANNELS]
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
    id_number: Text(32) | None = None
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
