"""Delivering webhooks: sign, POST, record. `lps worker` runs a WebhookSender cycle after each
outbox cycle (lps_core.messages.worker), with the same three steps on the same
lps_core.db.leased_queue (claim, lease, back-off, dead letters, a late result refused):

1. **Claim** (one short transaction): the due deliveries, queued or left `sending` past their lease,
   oldest first, locked with `FOR UPDATE SKIP LOCKED` on PostgreSQL so workers running at once never
   take the same one. One left `sending` by a worker that stopped, with every try used, is dead
   (whatever became of its endpoint, as for an outbox message); of the others, one whose endpoint
   has been switched off is cancelled (staff may re-send it later). The rest become `sending`, with
   a try counted and a lease (lps.webhooks.lease_seconds).
2. **Send** (no transaction open): one POST per delivery, `lps.webhooks.timeout_seconds` at most,
   redirects not followed, with the headers and signature of docs/webhooks.md.
3. **Record** (one transaction per delivery): a 2xx answer is delivered; anything else (another
   status, a refused connection, a timeout) is tried again after lps.webhooks.backoff_seconds,
   doubled per try up to lps.webhooks.backoff_max_seconds, and dead after lps.webhooks.max_tries.
   The update names the claim, so a worker whose lease ran out does not overwrite another's result.

A worker killed mid-send leaves the delivery `sending`; it is sent again after the lease, so a
receiver may see an event twice (at least once, never lost): receivers deduplicate on the event id.

The signature: HMAC-SHA256 with the endpoint's secret over `f"{timestamp}.{body}"` (the timestamp
header's digits, a full stop, the exact body bytes), in lower-case hex, sent as `v1=<hex>`."""
import hashlib
import hmac
import http.client
import logging
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from lps_core.db.leased_queue import DEAD, LeasedQueue, backoff_seconds
from lps_core.timeutil import utcnow
from lps_core.webhooks.models import DELIVERED, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
USER_AGENT = "LPS-Webhooks/1"
EVENT_ID_HEADER = "LPS-Event-Id"
EVENT_TYPE_HEADER = "LPS-Event-Type"
DELIVERY_HEADER = "LPS-Delivery-Id"
TIMESTAMP_HEADER = "LPS-Timestamp"
SIGNATURE_HEADER = "LPS-Signature"
SIGNATURE_VERSION = "v1"
EXCERPT = 500  # characters of the receiver's answer kept in the log


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256(secret, f"{timestamp}.{body}") in lower-case hex (docs/webhooks.md)."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret, delivery_id, event_id, event_type, body: bytes, timestamp=None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: event_id, EVENT_TYPE_HEADER: event_type, DELIVERY_HEADER: str(delivery_id),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: f"{SIGNATURE_VERSION}={signature(secret, timestamp, body)}"}


@dataclass
class Claimed:
    id: int
    claim: str
    tries: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: str


@dataclass(frozen=True)
class Answer:
    """What one POST came to: the receiver's status (None: no answer), an excerpt, or the error."""

    status: int | None
    excerpt: str | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class WebhookReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0


class WebhookSender:
    """Delivers the due webhook deliveries; `options` are lps.webhooks.* (WebhookSettings)."""

    def __init__(self, session_factory, options, name):
        self.options = options
        self.name = name
        self.deliveries = LeasedQueue(WebhookDelivery, session_factory, name)

    def cycle(self, now=None) -> WebhookReport:
        report = WebhookReport()
        now = now or utcnow()
        for item in self.claim(now, report):
            self.record(item, self.send(item), report, now)
        return report

    # --- 1. claim ---------------------------------------------------------------------------------

    def claim(self, now, report) -> list[Claimed]:
        with self.deliveries.transaction() as db:
            return self._claim(db, now, report)

    def _claim(self, db, now, report) -> list[Claimed]:
        claim = self.deliveries.claim_due(db, now, self.options)
        report.claimed, report.dead = claim.selected, claim.dead
        if not claim.rows:
            return []
        endpoints = {endpoint.id: endpoint for endpoint in db.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.id.in_({row.endpoint_id for row in claim.rows})))}
        claimed = []
        for row in claim.rows:
            endpoint = endpoints[row.endpoint_id]
            if not endpoint.active:
                claim.cancel(row, "the endpoint is switched off")
                report.cancelled += 1
            else:
                claim.lease(row)
                claimed.append(Claimed(row.id, claim.name, row.tries, endpoint.url, endpoint.secret, row.event_id,
                                       row.event_type, row.body))
        return claimed

    # --- 2. send ----------------------------------------------------------------------------------

    def send(self, item: Claimed) -> Answer:
        body = item.body.encode("utf-8")
        headers = signed_headers(item.secret, item.id, item.event_id, item.event_type, body)
        connection = None
        try:
            parts = urlsplit(item.url)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            if parts.scheme == "https":
                connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=ssl.create_default_context(),
                                                         timeout=self.options.timeout_seconds)
            else:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.options.timeout_seconds)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(EXCERPT * 4).decode("utf-8", "replace")[:EXCERPT]
            return Answer(response.status, excerpt or None)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # ValueError: a URL stored before a rule
            return Answer(None, error=f"{type(exc).__name__}: {exc}"[:1000])
        finally:
            if connection is not None:
                connection.close()

    # --- 3. record --------------------------------------------------------------------------------

    def record(self, item: Claimed, answer: Answer, report, now=None) -> None:
        now = now or utcnow()
        if answer.delivered:
            values = {"status": DELIVERED, "delivered_at": now, "last_error": None}
            report.delivered += 1
        else:
            why = answer.error or f"the receiver answered {answer.status}"
            values = self.deliveries.after_failure(item.tries, why, self.options, now)
            if values["status"] == DEAD:
                report.dead += 1
            else:
                report.retried += 1
        values.update(last_attempt_at=now, last_status_code=answer.status, last_response=answer.excerpt)
        if not self.deliveries.record(item.id, item.claim, values):
            log.warning("webhook delivery %s: the lease of claim %s ran out before its result was recorded",
                        item.id, item.claim)
        else:
            log.info("webhook delivery %s (%s) to %s: %s", item.id, item.event_type, item.url,
                     answer.status if answer.status is not None else answer.error)

    def backoff(self, tries) -> int:
        """Seconds to wait after the `tries`-th failed try: the base, doubled each time, capped."""
        return backoff_seconds(tries, self.options)
