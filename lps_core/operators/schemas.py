"""The staff forms about operators: signing in, changing one's password, and an administrator
creating an operator, changing their roles and outlets, or resetting their password.

Their shape (types, lengths, NUL) is checked here; the rules that need the database or the policy
(a user name already taken, unknown outlet codes, the password policy) stay in
lps_core.operators.services. A password is taken as typed: it is never trimmed."""
from typing import Annotated, Any

from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from lps_core.operators.roles import ROLES
from lps_core.validation import LenientQuery, Text

MAX_PASSWORD_LENGTH = 1024


def _check_secret(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("lps", "must be a string")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise PydanticCustomError("lps", f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if "\x00" in value:
        raise PydanticCustomError("lps", "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("lps", "must be valid Unicode text (it holds a lone surrogate)") from None
    return value


# A password as typed (spaces kept; the policy decides how long it must be).
Password = Annotated[str, PlainValidator(_check_secret),
                     WithJsonSchema({"type": "string", "maxLength": MAX_PASSWORD_LENGTH, "format": "password"})]
UserName = Text(64)
OutletCodes = Text(2000, description="Outlet or property codes separated by commas or spaces, or 'all'")


class SignInForm(LenientQuery):
    """The sign-in form. A user name of the wrong shape names no operator, so refusing it by its shape
    tells nothing about who exists."""

    username: UserName
    password: Password = ""


class PasswordChangeForm(LenientQuery):
    password: Password = ""
    confirm: Password = ""


class NewOperatorForm(LenientQuery):
    username: UserName
    display_name: Text(200) | None = None
    password: Password = ""
    roles: list[Text(64)] = Field(default_factory=list, max_length=len(ROLES))
    outlets: OutletCodes | None = None


class OperatorRolesForm(LenientQuery):
    roles: list[Text(64)] = Field(default_factory=list, max_length=len(ROLES))
    outlets: OutletCodes | None = None


class PasswordResetForm(LenientQuery):
    password: Password = ""
