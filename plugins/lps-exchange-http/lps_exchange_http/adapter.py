"""The HTTP exchange (IPointExchange): quotes, transfers, reversals and statements as JSON requests
to the partner's API. README.md is the partner's side of the protocol.

    POST {base}/quotes                          {"direction", "points"}
         -> {"lps_points", "partner_points", "rate"}
    PUT  {base}/transfers/{direction}/{reference}    {"member_no", "lps_points", "partner_points", ...}
         -> {"status": "done" | "pending", "partner_reference", "partner_points"}
    POST {base}/transfers/{direction}/{reference}/reversal
         -> {"status": "reversed" | "pending", "partner_reference"}
    GET  {base}/statement?from=...&to=...
         -> {"lines": [{"reference", "direction", "partner_points", "member_no"}]}

A transfer is a PUT to a URL named by its reference, so a resend is the same request and the
partner books it once. A receipt for other points than were asked is not a receipt: it is an
unknown outcome, left for reconciliation."""
from datetime import datetime
from urllib.parse import quote

from zope.interface import implementer

from lps_core.contract import (
    IN,
    OUT,
    IPointExchange,
    PermanentFailure,
    Quote,
    StatementLine,
    TransferReceipt,
    UnknownOutcome,
)

from lps_exchange_http.client import PartnerClient
from lps_exchange_http.settings import HttpExchangeSettings, PartnerEndpoint

DONE, PENDING, REVERSED = "done", "pending", "reversed"
DIRECTIONS = (IN, OUT)


@implementer(IPointExchange)
class HttpExchange:
    settings_schema = HttpExchangeSettings

    def __init__(self, endpoint: PartnerEndpoint, client: PartnerClient | None = None):
        self.name = endpoint.partner
        self.label = endpoint.label
        self.client = client or PartnerClient(endpoint)

    def __repr__(self):
        return f"HttpExchange({self.name!r}, {self.client.endpoint.base_url!r})"

    def quote(self, direction, points, settings):
        answer = self.client.call("POST", "/quotes", _with_programme({"direction": direction, "points": points},
                                                                      settings), secret=_secret(settings)).body
        lps_points, partner_points = _count(answer, "lps_points"), _count(answer, "partner_points")
        asked = lps_points if direction == OUT else partner_points
        if asked != points:
            raise PermanentFailure(f"the partner quoted {asked} points, not {points}", field="points")
        return Quote(direction, lps_points, partner_points, str(answer.get("rate") or "")[:80])

    def transfer(self, transfer, settings):
        answer = self.client.call("PUT", _transfer_path(transfer), _with_programme({
            "member_no": transfer.partner_member_no, "lps_points": transfer.lps_points,
            "partner_points": transfer.partner_points, "requested_at": transfer.requested_at.isoformat(),
        }, settings), idempotency_key=f"{transfer.direction}:{transfer.reference}", secret=_secret(settings)).body
        status = answer.get("status")
        if status == PENDING:
            return TransferReceipt(pending=True, detail="the partner confirms later")
        if status != DONE:
            raise UnknownOutcome(f"the partner answered the transfer with status {status!r}: reconcile")
        booked = answer.get("partner_points", transfer.partner_points)
        if booked != transfer.partner_points:
            raise UnknownOutcome(f"the partner booked {booked!r} points, not {transfer.partner_points}: reconcile")
        return TransferReceipt(partner_reference=_reference(answer))

    def reverse(self, transfer, settings):
        answer = self.client.call("POST", _transfer_path(transfer) + "/reversal", _with_programme({}, settings),
                                  idempotency_key=f"{transfer.direction}:{transfer.reference}:reversal",
                                  secret=_secret(settings)).body
        status = answer.get("status")
        if status == PENDING:
            return TransferReceipt(pending=True, detail="the partner confirms the reversal later")
        if status != REVERSED:
            raise UnknownOutcome(f"the partner answered the reversal with status {status!r}")
        return TransferReceipt(partner_reference=_reference(answer))

    def statement(self, period_start: datetime, period_end: datetime, settings):
        query = {"from": period_start.isoformat(), "to": period_end.isoformat()}
        if settings is not None and settings.programme_code:
            query["programme"] = settings.programme_code
        answer = self.client.call("GET", "/statement", query=query, secret=_secret(settings)).body
        lines = answer.get("lines")
        if not isinstance(lines, list):
            raise UnknownOutcome("the partner's statement has no list of lines")
        return [_line(line) for line in lines]


def _with_programme(payload, settings) -> dict:
    if settings is not None and settings.programme_code:
        return {**payload, "programme": settings.programme_code}
    return payload


def _secret(settings) -> str | None:
    return settings.secret if settings is not None and settings.secret else None


def _transfer_path(transfer) -> str:
    return f"/transfers/{transfer.direction}/{quote(transfer.reference, safe='')}"


def _count(answer, name) -> int:
    value = answer.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise UnknownOutcome(f"the partner's answer has no whole number {name}")
    return value


def _reference(answer) -> str | None:
    value = answer.get("partner_reference")
    return str(value)[:64] if value not in (None, "") else None


def _line(line) -> StatementLine:
    if not isinstance(line, dict) or line.get("direction") not in DIRECTIONS or not line.get("reference"):
        raise UnknownOutcome(f"the partner's statement has a line LPS cannot read: {str(line)[:100]}")
    return StatementLine(str(line["reference"]), line["direction"], _count(line, "partner_points"),
                         str(line.get("member_no") or ""))
