"""One HTTP request to the partner, signed, and what its outcome means under the exchange
contract. The line between "not sent" and "sent" decides everything:

- the connection cannot be opened, or the request cannot be written: nothing reached the partner,
  so trying again later is safe (TemporaryFailure);
- the request was written, then no answer came in time, or the connection broke, or the answer
  cannot be read: the partner may have acted (UnknownOutcome), so LPS asks again with the same
  reference, which the partner treats idempotently, or reconciles, and never guesses;
- an answer came: 2xx is the partner's receipt; 408, 425 and 429 mean "later" and 5xx the partner's
  own trouble, and a redirect a wrong address (TemporaryFailure); any other 4xx is a refusal
  (PermanentFailure, naming the request's field when the partner names one).

http.client is used rather than urllib because urllib folds the two sides of that line into one
error: here `connect()` and `request()` are "not sent", `getresponse()` and `read()` are "sent"."""
import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from lps_core.contract import PermanentFailure, TemporaryFailure, UnknownOutcome

from lps_exchange_http.settings import PartnerEndpoint

LATER_STATUSES = (408, 425, 429)
DETAIL_LENGTH = 200
# The partner's names for the request's fields, as LPS's API calls them (a refusal naming one is
# shown to staff and to the API client beside that field).
FIELDS = {"member_no": "partner_member_no", "points": "points", "partner_points": "points",
          "lps_points": "points", "reference": "reference", "direction": "direction"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


def signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """HMAC-SHA256, hex, over "<timestamp>\\n<METHOD>\\n<path with query>\\n<body>": the partner
    recomputes it with the shared secret and refuses a request older than a few minutes."""
    message = b"\n".join([timestamp.encode(), method.upper().encode(), path.encode(), body])
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class PartnerClient:
    """Calls the partner's API at `endpoint.base_url` with the configured authentication."""

    def __init__(self, endpoint: PartnerEndpoint, clock=time.time):
        self.endpoint = endpoint
        self.clock = clock

    def call(self, method: str, path: str, payload: dict | None = None, *, query: dict | None = None,
             idempotency_key: str | None = None, secret: str | None = None) -> Answer:
        """The partner's 2xx answer as JSON; anything else raises a failure of the contract.
        `secret`: a switch's own secret, instead of the ini file's."""
        endpoint = self.endpoint
        if not endpoint.base_url:
            raise TemporaryFailure("lps.exchange_http.base_url is not set: the partner's address is unknown")
        secret = secret or endpoint.secret.get_secret_value()
        if endpoint.auth != "none" and not secret:
            raise TemporaryFailure(f"no secret to authenticate with: set lps.exchange_http.secret or the partner's "
                                   f"secret setting (auth = {endpoint.auth})")
        parts = urlsplit(endpoint.base_url)
        target = f"{parts.path}{path}" + (f"?{urlencode(query)}" if query else "")
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode() if payload is not None else b""
        headers = {"Accept": "application/json", "User-Agent": "lps-exchange-http/0.1"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        headers.update(self._authentication(method, target, body, secret))
        connection = self._connection(parts)
        try:
            try:
                connection.connect()
                connection.sock.settimeout(endpoint.read_timeout)
                connection.request(method, target, body=body or None, headers=headers)
            except (OSError, http.client.HTTPException) as exc:
                raise TemporaryFailure(f"the partner could not be reached: {_describe(exc)}") from None
            try:
                response = connection.getresponse()
                raw = response.read()
            except (OSError, http.client.HTTPException) as exc:
                raise UnknownOutcome(f"the request was sent but no answer came back ({_describe(exc)}): "
                                     "ask again with the same reference, or reconcile") from None
        finally:
            connection.close()
        return _answer(response.status, raw)

    def _connection(self, parts):
        timeout = self.endpoint.connect_timeout
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def _authentication(self, method, target, body, secret) -> dict:
        endpoint = self.endpoint
        headers = {"X-LPS-Key-Id": endpoint.key_id} if endpoint.key_id else {}
        if endpoint.auth == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        elif endpoint.auth == "hmac":
            timestamp = str(int(self.clock()))
            headers["X-LPS-Timestamp"] = timestamp
            headers["X-LPS-Signature"] = "sha256=" + signature(secret, timestamp, method, target, body)
        return headers


def _describe(exc) -> str:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"[:DETAIL_LENGTH]


def _answer(status: int, raw: bytes) -> Answer:
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:
        body = None
    if 200 <= status < 300:
        if not isinstance(body, dict):
            raise UnknownOutcome(f"the partner answered {status} with a body that is not a JSON object: "
                                 f"{text[:DETAIL_LENGTH]!r}; ask again with the same reference")
        return Answer(status, body)
    detail = _detail(body, text)
    if status in LATER_STATUSES or status >= 500:
        raise TemporaryFailure(f"the partner answered {status}: {detail}")
    if status in (401, 403):  # LPS's credentials, not the transfer: named as the partner's set-up
        raise PermanentFailure(f"the partner refused LPS's credentials ({status}): {detail}", field="partner")
    if 400 <= status < 500:
        field = body.get("field") if isinstance(body, dict) else None
        raise PermanentFailure(f"the partner refused ({status}): {detail}", field=FIELDS.get(field))
    raise TemporaryFailure(f"the partner answered {status} (a redirect, not an answer): check "
                           f"lps.exchange_http.base_url; {detail}")


def _detail(body, text) -> str:
    if isinstance(body, dict):
        for name in ("message", "error", "detail"):
            if isinstance(body.get(name), str) and body[name]:
                return body[name][:DETAIL_LENGTH]
    return text.strip()[:DETAIL_LENGTH] or "no detail"
