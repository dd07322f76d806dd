"""The adapter's settings: where the partner is and how LPS proves who it is, programme-wide from
the ini file (`lps.exchange_http.*`), and the amounts per outlet or property, edited by staff on
the configuration screens.

The secret is write-only. The ini file's is kept as a pydantic SecretStr, so that no repr, log line
or settings dump shows it. A secret set with the partner's switch (per outlet, property or
programme, on the configuration screens or through the API) wins over it; its field is marked
writeOnly, so LPS stores it but never shows it back (the screens, the API and the audit log leave
it out). Either is only sent as the bearer token or used as the HMAC key."""
import re

from pydantic import Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError

from lps_core.contract import ExchangeSettings, ProgrammeSettings

PREFIX = "lps.exchange_http."
AUTH_SCHEMES = ("hmac", "bearer", "none")
PARTNER_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # as LPS's API paths name a partner


class PartnerEndpoint(ProgrammeSettings):
    """`lps.exchange_http.<field>`: the partner's API and the credentials LPS signs with."""

    partner: str = Field("http_partner", description="The exchange partner's name in LPS (its switches, its "
                                                     "transfers, its API path)")
    label: str = Field("Partner programme (HTTP)", max_length=80)
    base_url: str | None = Field(None, description="The partner's API, e.g. https://api.partner.example/lps/v1")
    auth: str = Field("hmac", description="hmac (a signature over the request), bearer (a token) or none")
    key_id: str = Field("", max_length=128, description="Sent as X-LPS-Key-Id, so the partner finds the key")
    secret: SecretStr = Field(SecretStr(""), description="The HMAC key or the bearer token; never shown. A "
                                                         "switch's own secret wins over it")
    connect_timeout: float = Field(3.0, gt=0, le=60, description="Seconds to open the connection")
    read_timeout: float = Field(10.0, gt=0, le=300, description="Seconds to wait for the partner's answer")

    @field_validator("partner")
    @classmethod
    def partner_code(cls, value):
        if not PARTNER_CODE.match(value):
            raise PydanticCustomError("code", "must be 1 to 64 letters, digits, '-' or '_'")
        return value

    @field_validator("base_url", mode="before")
    @classmethod
    def http_url(cls, value):
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", str(value)):
            raise PydanticCustomError("url", "must be an http:// or https:// address")
        return str(value).rstrip("/")

    @field_validator("auth")
    @classmethod
    def known_scheme(cls, value):
        if value not in AUTH_SCHEMES:
            raise PydanticCustomError("choice", "must be one of {names}", {"names": ", ".join(AUTH_SCHEMES)})
        return value


class HttpExchangeSettings(ExchangeSettings):
    """Per outlet: the amounts a member may move (LPS checks them before it asks the partner). The
    rate is the partner's: it answers every quote."""

    programme_code: str | None = Field(None, max_length=32,
                                       description="Sent as `programme` with every request, when the partner "
                                                   "runs several programmes behind one API")
    secret: str | None = Field(None, min_length=8, max_length=200, repr=False, json_schema_extra={"writeOnly": True},
                               description="The HMAC key or bearer token where this outlet or property has its "
                                           "own, instead of lps.exchange_http.secret; write-only")
