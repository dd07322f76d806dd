"""The e-mail channel's settings: programme-wide keys `lps.email.*` from the ini file, and what an
outlet may set for itself (its own From address), both checked at start-up or when staff save them."""
from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from lps_core.contract import OutletSettings, ProgrammeSettings

PREFIX = "lps.email."


def check_address(value):
    """An address for From: one @ with something on each side, and no spaces or line breaks."""
    if value is None:
        return value
    local, at, domain = value.partition("@")
    if not (local and at and domain) or "@" in domain or any(char.isspace() for char in value):
        raise PydanticCustomError("address", "must be an e-mail address such as loyalty@hotel.example")
    return value


class EmailSettings(ProgrammeSettings):
    """`lps.email.<field>`; a key left empty in the ini file takes its default."""

    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)  # usually 587 with STARTTLS
    sender: str = "lps@localhost"  # the From address; set it in production
    # Upgrade with STARTTLS, verifying the server's certificate, before logging in. A server that
    # does not offer it is an error, never a silent fall-back to plain text.
    starttls: bool = False
    username: str | None = None
    password: str | None = Field(None, validate_default=True)  # with username: both or neither
    timeout: float = Field(30.0, gt=0)  # seconds to wait for the server

    @model_validator(mode="before")
    @classmethod
    def empty_means_default(cls, given):
        return {key: value for key, value in given.items() if value != ""} if isinstance(given, dict) else given

    _sender_is_an_address = field_validator("sender")(check_address)

    @field_validator("password")
    @classmethod
    def set_with_username(cls, password, info: ValidationInfo):
        username = info.data.get("username")
        if username and not password:
            raise PydanticCustomError("together", f"is required when {PREFIX}username is set")
        if password and not username:
            raise PydanticCustomError("together", f"is given without {PREFIX}username")
        return password


class EmailOutletSettings(OutletSettings):
    """What an outlet (or a property) sets for itself on the configuration screens."""

    sender: str | None = Field(None, description="The From address of its messages, instead of lps.email.sender")

    _sender_is_an_address = field_validator("sender")(check_address)
