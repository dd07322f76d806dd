"""`lps worker`: delivers the outbox, one claimed batch at a time, through
lps_core.messages.delivery.deliver.

A cycle, on the outbox's lps_core.db.leased_queue (claim, lease, back-off, dead letters and the
check that a late result does not overwrite a newer claim's, shared with the webhooks):
1. **Claim** (one short transaction): the due messages, queued or left `sending` past their lease,
   oldest first. On PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so workers running
   at once never take the same message. On SQLite every write transaction begins IMMEDIATE and
   holds the database's one write lock, so a claim is also exclusive; run one worker there (a
   second one only waits for the lock). A claimed message is checked before it is sent: a
   marketing message without consent (withdrawn since) or whose channel is not installed or
   switched off is cancelled; a marketing message in quiet hours, or one over the member's rate
   limit, waits (without using a try). The others become `sending`, with a try counted and a
   lease (`lps.messages.lease_seconds`) in `next_attempt_at`.
2. **Send** (no transaction open on SQLite, a read-only one on PostgreSQL): each message through
   its channel, with its outbox id as idempotency key (`Message.message_id`, `lps-message-<id>`).
3. **Record** (one transaction per message): sent, queued again with exponential back-off
   (`lps.messages.backoff_seconds` doubled per try, at most `lps.messages.backoff_max_seconds`), or
   dead after `lps.messages.max_tries` tries or a permanent failure. The update names the claim
   (`claimed_by`), so a worker whose lease ran out does not overwrite another's result.

After each outbox cycle the worker delivers the webhooks that are due the same way (claim, send,
record; lps_core.webhooks.delivery), with their own lps.webhooks.* settings.

A worker killed between 1 and 3 leaves its messages `sending`: once the lease has run out another
worker (or the same one restarted) takes them again. Whether the killed send reached the gateway
is unknown, so that message may arrive twice (at least once, never lost); the idempotency key lets
a gateway that honours one (and an e-mail reader, by the Message-ID) drop the second copy.
"""
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from lps_core.contract.messages import DeliveryResult, Message
from lps_core.db.leased_queue import LeasedQueue, backoff_seconds
from lps_core.errors import LpsError
from lps_core.messages.delivery import deliver
from lps_core.messages.models import CANCELLED, DEAD, MARKETING, QUEUED, SENT, OutboxMessage
from lps_core.messages.unsubscribe import unsubscribe_url
from lps_core.timeutil import as_utc, utcnow
from lps_core.webhooks.delivery import WebhookSender
from lps_core.webhooks.settings import webhook_settings

log = logging.getLogger(__name__)
MESSAGE_ID_PREFIX = "lps-message-"
EXEMPT_FROM_RATE_LIMIT = ("sign_in_code",)  # the portal throttles codes itself; a member must get them


def message_id_of(outbox_id) -> str:
    """The idempotency key of an outbox message: the same for every try of it."""
    return f"{MESSAGE_ID_PREFIX}{outbox_id}"


@dataclass
class Claimed:
    id: int
    claim: str
    tries: int
    channel: str
    outlet_id: int | None
    message: Message
    secret: bool


@dataclass
class CycleReport:
    """What a cycle (or a run, summed) did. `claimed` and `cancelled` count messages and webhook
    deliveries together: `claimed` is what tells the loop whether anything was due; the others are
    the messages', and the `webhooks_` ones the deliveries'."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    postponed: int = 0
    webhooks_delivered: int = 0
    webhooks_retried: int = 0
    webhooks_dead: int = 0
    webhooks_cancelled: int = 0

    def summary(self) -> str:
        """The counts of both, as `lps worker` prints them when it stops."""
        return (f"messages sent {self.sent}, retried {self.retried}, dead {self.dead}, "
                f"cancelled {self.cancelled - self.webhooks_cancelled}, postponed {self.postponed}; "
                f"webhooks delivered {self.webhooks_delivered}, retried {self.webhooks_retried}, "
                f"dead {self.webhooks_dead}, cancelled {self.webhooks_cancelled}")


class Worker:
    """Delivers the outbox. `session_factory` makes sessions of the database (lps_core.db);
    `read_session_factory`, when given, the sessions deliver() reads the channel switches with
    while a message is being sent (on SQLite a session that does not take the write lock)."""

    def __init__(self, session_factory, plugins, settings, *, read_session_factory=None, name=None):
        self.session_factory = session_factory
        self.read_session_factory = read_session_factory or session_factory
        self.plugins = plugins
        self.settings = settings  # lps_core.settings.Settings
        self.options = settings.messages
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()
        self.outbox = LeasedQueue(OutboxMessage, session_factory, self.name)
        self.webhooks = WebhookSender(session_factory, webhook_settings(plugins), self.name)

    # --- the loop ---------------------------------------------------------------------------------

    def run(self, *, once=False, on_cycle=None) -> CycleReport:
        """Deliver until stopped (SIGTERM, SIGINT: the message being sent is finished first), or,
        with `once`, until nothing is due. Returns the totals."""
        total = CycleReport()
        while not self.stopping.is_set():
            report = self.cycle()
            for field in vars(total):
                setattr(total, field, getattr(total, field) + getattr(report, field))
            if on_cycle is not None:
                on_cycle(report)
            if report.claimed == 0:
                if once:
                    break
                self.stopping.wait(self.options.poll_seconds)
        return total

    def install_signal_handlers(self):
        def stop(signum, frame):
            log.info("worker %s stopping after the message in hand (signal %s)", self.name, signum)
            self.stopping.set()
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def cycle(self, now=None) -> CycleReport:
        """One claim, send and record; `now` (default: the clock) is when the cycle runs, for
        what is due, back-off and quiet hours."""
        report = CycleReport()
        claimed = self.claim(now or utcnow(), report)
        for item in claimed:
            result = self.send(item)
            self.record(item, result, report, now=now)
        webhooks = self.webhooks.cycle(now)
        report.claimed += webhooks.claimed
        report.cancelled += webhooks.cancelled
        report.webhooks_delivered, report.webhooks_retried, report.webhooks_dead, report.webhooks_cancelled = (
            webhooks.delivered, webhooks.retried, webhooks.dead, webhooks.cancelled)
        return report

    # --- 1. claim ---------------------------------------------------------------------------------

    def claim(self, now, report) -> list[Claimed]:
        with self.outbox.transaction() as db:
            return self._claim(db, now, report)

    def _claim(self, db, now, report) -> list[Claimed]:
        claim = self.outbox.claim_due(db, now, self.options)
        report.claimed, report.dead = claim.selected, claim.dead
        sent_recently = self._sent_in_the_last_hour(db, claim.rows, now)
        claimed = []
        for row in claim.rows:
            refusal = self._refusal(db, row)
            if refusal:
                claim.cancel(row, refusal)
                report.cancelled += 1
                if self.options.console:
                    self._echo(row.id, row.channel, row.recipient, row.subject, row.body, f"not sent: {refusal}")
                continue
            wait_until = self._wait_until(row, now, sent_recently)
            if wait_until is not None:
                claim.postpone(row, wait_until)
                report.postponed += 1
                continue
            sent_recently.setdefault((row.member_id, row.channel), []).append(now)
            claim.lease(row)
            claimed.append(Claimed(row.id, claim.name, row.tries, row.channel, row.outlet_id, self._message(row),
                                   row.secret))
        return claimed

    def _refusal(self, db, row) -> str | None:
        """Why the message must not be sent at all, or None."""
        state = self.plugins.switches.state(db, "channel", row.channel, row.outlet_id)
        if state.source == "not installed":
            return f"the channel {row.channel!r} is not installed"
        if not state.enabled:
            return f"the channel {row.channel!r} is switched off"
        if row.kind == MARKETING and row.member_id is not None:
            from lps_core.messages.consent import has_consent

            if not has_consent(db, row.member_id, row.channel):
                return "the member has not agreed to marketing messages on this channel"
        return None

    def _sent_in_the_last_hour(self, db, rows, now) -> dict:
        """{(member id, channel): [sent_at, ...]} of the members in the batch, for the rate limit."""
        if not self.options.rate_limit_per_hour or not rows:
            return {}
        members = {row.member_id for row in rows if row.member_id is not None}
        found = db.execute(select(OutboxMessage.member_id, OutboxMessage.channel, OutboxMessage.sent_at).where(
            OutboxMessage.member_id.in_(members), OutboxMessage.status == SENT,
            OutboxMessage.sent_at > now - timedelta(hours=1)))
        sent = {}
        for member_id, channel, sent_at in found:
            sent.setdefault((member_id, channel), []).append(as_utc(sent_at))
        return sent

    def _wait_until(self, row, now, sent_recently) -> datetime | None:
        """When the message may go instead of now: after quiet hours (marketing), or once the
        member's hour on the channel has room (rate limit); None: now."""
        if row.kind == MARKETING:
            end = quiet_hours_end(now, self.options.quiet_hours, self.settings.timezone)
            if end is not None:
                return end
        limit = self.options.rate_limit_per_hour
        if limit and row.member_id is not None and row.event not in EXEMPT_FROM_RATE_LIMIT:
            sent = sorted(sent_recently.get((row.member_id, row.channel), []))
            if len(sent) >= limit:
                return sent[-limit] + timedelta(hours=1)
        return None

    def _message(self, row) -> Message:
        body, html, headers = row.body or "", row.html, {}
        if row.kind == MARKETING and row.member_id is not None:
            url = unsubscribe_url(self.settings, row.member_id, row.channel)
            if row.channel == "email":
                body += f"\n\n--\nUnsubscribe / 退订: {url}\n"
                if html:
                    html += f'<p style="font-size:small"><a href="{url}">Unsubscribe / 退订</a></p>\n'
                headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        return Message(recipient=row.recipient, subject=row.subject, body=body, html=html,
                       message_id=message_id_of(row.id), headers=headers)

    # --- 2. send ----------------------------------------------------------------------------------

    def send(self, item: Claimed) -> DeliveryResult:
        if self.options.console:
            self._echo(item.id, item.channel, item.message.recipient, item.message.subject, item.message.body,
                       "sending")
        db = self.read_session_factory()
        try:
            return deliver(db, self.plugins, item.message, channel=item.channel, outlet_id=item.outlet_id)
        except LpsError as exc:  # switched off or uninstalled since the claim
            return DeliveryResult.permanent(str(exc))
        finally:
            db.rollback()
            db.close()

    def _echo(self, message_id, channel, recipient, subject, body, what):
        """Development only (lps.messages.console): the whole message, one-time codes included, in the log."""
        log.info("message %s via %s to %s (%s): %s\n%s", message_id, channel, recipient, what, subject, body or "")

    # --- 3. record --------------------------------------------------------------------------------

    def record(self, item: Claimed, result: DeliveryResult, report, now=None) -> None:
        now = now or utcnow()
        if result.delivered:
            values = {"status": SENT, "sent_at": now, "gateway_id": result.gateway_id or None, "last_error": None}
            if item.secret:
                values.update(body=None, html=None)
            report.sent += 1
        else:
            values = self.outbox.after_failure(item.tries, result.detail, self.options, now, retry=result.retry)
            if values["status"] == DEAD:
                report.dead += 1
            else:
                report.retried += 1
        if not self.outbox.record(item.id, item.claim, values):
            log.warning("message %s: the lease of claim %s ran out before its result (%s) was recorded",
                        item.id, item.claim, result.outcome)
        else:
            log.info("message %s via %s: %s%s", item.id, item.channel, result.outcome,
                     f" ({result.detail})" if result.detail and not result.delivered else "")

    def backoff(self, tries) -> int:
        """Seconds to wait after the `tries`-th failed try: the base, doubled each time, capped."""
        return backoff_seconds(tries, self.options)


def quiet_hours_end(now, quiet_hours, zone) -> datetime | None:
    """The end of the quiet hours `now` falls in (an aware UTC datetime), or None outside them.
    `quiet_hours` is (start, end) in minutes after midnight in `zone`; it may cross midnight."""
    if quiet_hours is None:
        return None
    start, end = quiet_hours
    local = now.astimezone(zone)
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    local_end = datetime(day.year, day.month, day.day, end // 60, end % 60, tzinfo=zone)
    return local_end.astimezone(now.tzinfo)


def retry_dead(db, message_id) -> dict:
    """Put a dead (or cancelled) message back in the queue for a fresh set of tries; returns the
    before and after for the audit log. 404 for an unknown message, 409 for one not dead."""
    from lps_core.errors import Conflict, NotFound

    row = db.get(OutboxMessage, message_id, with_for_update=True)
    if row is None:
        raise NotFound(f"message {message_id} does not exist", {"id": "no such message"})
    if row.status not in (DEAD, CANCELLED):
        raise Conflict(f"message {message_id} is {row.status}, not dead", {"status": f"is {row.status}"})
    if row.body is None:
        raise Conflict(f"message {message_id} no longer has its text (a one-time code)",
                       {"id": "its text was cleared"})
    before = {"status": row.status, "tries": row.tries, "last_error": row.last_error}
    row.status, row.tries, row.next_attempt_at, row.claimed_by = QUEUED, 0, utcnow(), None
    db.flush()
    return {"before": before, "after": {"status": QUEUED, "tries": 0}}


def outbox_counts(db) -> dict:
    """{status: count} of the whole outbox."""
    return dict(db.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


def dead_letters_query(channel=None, event=None):
    query = select(OutboxMessage).where(OutboxMessage.status == DEAD)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    if event:
        query = query.where(OutboxMessage.event == event)
    return query

