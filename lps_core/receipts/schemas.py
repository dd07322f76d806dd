"""Input schemas of receipts: an outlet's receipt layout and its thermal printer (API and
configuration screen), a settlement in a path, and the paper a receipt prints on. Whether a
template is registered depends on the plugins installed, so it is checked against the registry
when the layout is built (422)."""
import base64
import binascii
import re
from typing import Annotated, Any, Literal

from pydantic import PlainValidator, WithJsonSchema, model_validator

from lps_core.receipts.printers import CONNECTIONS, PrinterSettings
from lps_core.receipts.services import FIELDS, PAPERS, Layout
from lps_core.receipts.thermal import PAPERS as THERMAL_PAPERS
from lps_core.receipts.template_registry import CORE_TEMPLATES
from lps_core.receipts.documents import BUILDERS
from lps_core.validation import Body, Code, Field, Id, Int, Query, Text, invalid, unprocessable

TEXT_MAX = 500
LOGO_MAX = 48_000  # a data: URI of a small logo; the whole request body is at most 64 KiB
LOGO_TYPES = ("png", "jpeg", "gif", "webp")  # no SVG: it can carry script
# The whole rule of a logo, in a pattern both Python and ECMAScript read alike: an http(s) URL with a
# host, in the characters RFC 3986 allows (ASCII, so the longest logo fits in a request; no quote,
# space, angle bracket or backslash), or a data: URI of base64 that decodes.
URL_CHARS = r"A-Za-z0-9._~%!$&()*+,;=:@\[\]-"
LOGO_PATTERN = (rf"^(?:https?://[{URL_CHARS}]+(?:[/?#][/?#{URL_CHARS}]*)?"
                r"|data:image/(?:" + "|".join(LOGO_TYPES) + r");base64,"
                r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4}))$")
_LOGO = re.compile(LOGO_PATTERN[1:-1] + r"\Z")

Paper = Literal[PAPERS]


def _check_logo(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("must be an http(s):// URL or a data: URI of an image")
    if len(value) > LOGO_MAX:
        raise invalid(f"must be at most {LOGO_MAX} characters")
    if not _LOGO.match(value):
        if value.startswith("data:"):
            raise invalid("a data: URI must be base64 of one of "
                                             + ", ".join(f"image/{kind}" for kind in LOGO_TYPES))
        raise invalid("must be an http(s):// URL or a data: URI of an image")
    if value.startswith("data:"):
        try:
            base64.b64decode(value.partition(",")[2], validate=True)
        except binascii.Error:  # the pattern admits only valid base64; kept as a second lock
            raise invalid("the data: URI's base64 is not valid") from None
    return value


Logo = Annotated[str, PlainValidator(_check_logo), WithJsonSchema({
    "type": "string", "maxLength": LOGO_MAX, "pattern": LOGO_PATTERN,
    "description": "An http(s) URL, or a data: URI (base64) of a PNG, JPEG, GIF or WebP image"})]


class ReceiptLayoutIn(Body):
    """An outlet's receipt layout; fields left out take their defaults."""

    header_text: Text(TEXT_MAX, description="Plain text, shown as typed (escaped); new lines are kept") | None = None
    footer_text: Text(TEXT_MAX) | None = None
    logo: Logo | None = None
    paper: Paper = "80mm"
    template: Text(64, description="A registered receipt template (lps-80mm, lps-a4, or a plugin's); default: "
                                   "LPS's template for the paper") | None = None
    fields: list[Literal[FIELDS]] = Field(list(FIELDS), max_length=len(FIELDS) * 2,
                                          description="The parts shown; outlet, bill no., time and totals always show")

    def layout(self, template_names) -> Layout:
        """The Layout to save; a template that no installed plugin provides is refused (422)."""
        template = self.template or CORE_TEMPLATES[self.paper]
        if template not in template_names:
            raise unprocessable("template",
                                f"must be one of the receipt templates: {', '.join(sorted(template_names))}")
        return Layout(self.header_text, self.footer_text, self.logo, self.paper, template,
                      tuple(name for name in FIELDS if name in self.fields), customised=True)


class OutletPath(Query):
    code: Code(description="Outlet code")


class DocumentPath(Query):
    kind: Literal[tuple(BUILDERS)] = Field(description="bill (earn-only), card_movement (deposit, top-up, "
                                                       "repayment: its ledger entry's id), redemption, "
                                                       "settlement_refund or bill_refund")
    id: Id


class ReceiptQuery(Query):
    paper: Paper | None = Field(None, description="Paper size; default the outlet layout's paper")


# How each connection names its printer: host:port; a device or a pyserial URL; vendor:product in hex.
ADDRESS_RULES = {
    "network": (re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?:(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}"
                           r"|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})\Z"),
                "must be host:port, for example 192.168.1.50:9100"),
    "serial": (re.compile(r"(?:/dev/[A-Za-z0-9._/-]{1,60}|COM[1-9][0-9]{0,2}"
                          r"|(?:rfc2217|socket)://[A-Za-z0-9.-]+:[0-9]{1,5})\Z"),
               "must be a serial device (/dev/ttyUSB0, COM3) or a pyserial URL (rfc2217://host:port)"),
    "usb": (re.compile(r"[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}\Z"), "must be vendor:product in hex, for example 04b8:0202"),
}
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


class ReceiptPrinterIn(Body):
    """An outlet's thermal (ESC/POS) receipt printer."""

    connection: Literal[CONNECTIONS]
    address: Text(200, description="network: host:port (usually port 9100); serial: a device or pyserial URL; "
                                   "usb: vendor:product in hex")
    paper: Literal[THERMAL_PAPERS] = "80mm"
    baudrate: Int(1200, 115200, description="Serial only: one of " + ", ".join(map(str, BAUDRATES))
                                            + "; default 9600") | None = None
    auto_print: bool = Field(False, description="Print the receipt as soon as a bill is settled at the desk")

    @model_validator(mode="after")
    def _address_fits_the_connection(self):
        pattern, rule = ADDRESS_RULES[self.connection]
        if not pattern.match(self.address):
            raise unprocessable("address", rule)
        if self.baudrate is not None and self.connection != "serial":
            raise unprocessable("baudrate", "only a serial printer has a baud rate")
        if self.baudrate is not None and self.baudrate not in BAUDRATES:
            raise unprocessable("baudrate", "must be one of " + ", ".join(map(str, BAUDRATES)))
        return self

    def printer(self) -> PrinterSettings:
        return PrinterSettings(self.connection, self.address, self.paper, self.baudrate, self.auto_print)
