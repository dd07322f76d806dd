"""Posting log: one JSON line per points posting, points reversal, refund and tier change.

Each event is written at level INFO to the Python logger ``lps.postings`` as a single line of JSON,
so hotel IT can send it to a file, syslog or a log shipper with ordinary logging configuration and
no code. The fields are:

- ``event``: ``points_posted``, ``points_reversed``, ``bill_refunded``, ``tier_changed``,
  ``points_expiring`` or ``credit_warning``;
- ``transaction_id``, ``outlet_id``, ``bill_no``, ``member_id``: the bill (transaction) concerned;
- ``points``: the signed ledger amount (positive when earned, negative when taken back by a refund);
- ``balance_after``: the points balance after the posting; ``entry_id``: the ledger entry;
- ``refund_id``, ``refund_no``: for a reversal, the refund that caused it; for ``bill_refunded``
  (every refund of a member's bill, also one that took back no points) the refund itself, with
  ``refunded_cents`` (what it gave back, integer cents), ``points`` (negative: what it took back)
  and ``whole`` (true when it returned the bill's last cent);
- ``member_id``, ``old_tier``, ``new_tier``: for a tier change (``old_tier`` may be null);
- ``card_id``, ``used_cents``, ``limit_cents``: for a credit warning (a card's credit line passed
  its warning threshold; amounts in integer cents);
- ``at``: when the line was written, in UTC (ISO 8601, ending in ``Z``).

The line is also attached to the log record as ``record.lps_event`` (a dict), for handlers that
ship structured records.

Lines are written inside the cashier's transaction, before it commits (that is when LPS calls the
hooks). If the transaction is then rolled back or retried, the line stays: treat the log as a
feed to reconcile against the ledger by ``entry_id``, not as the ledger itself. A failure to write
the line (a broken handler, a full disk) never aborts the transaction: it is reported as a warning
on the logger ``lps_posting_log`` and counted; any other error is not caught.

Nothing is written unless ``lps.postings`` is enabled for INFO. To write the lines to their own
file, add to the logging sections of the ini file (keeping the existing keys)::

    [loggers]
    keys = root, lps_core, sqlalchemy, postings

    [handlers]
    keys = console, postings

    [formatters]
    keys = generic, message

    [logger_postings]
    level = INFO
    handlers = postings
    qualname = lps.postings
    propagate = 0

    [handler_postings]
    class = handlers.WatchedFileHandler
    args = ('%(here)s/../var/postings.jsonl', 'a', 'utf-8')
    level = NOTSET
    formatter = message

    [formatter_message]
    format = %(message)s

``propagate = 0`` keeps the lines out of the console log; ``WatchedFileHandler`` reopens the file
after logrotate moves it.

The plugin also adds ``GET /plugins/posting-log/status`` (route ``posting_log.status``), a JSON
report of how many events of each kind were written since start. The counts are PER PROCESS: they
start at zero when the process starts, and with several worker processes each one reports only
its own (the ``pid`` field says which answered). The route needs no sign-in; it shows only counts.
"""
import json
import logging
import os
import threading
from collections import Counter
from datetime import datetime, timezone

from pyramid.security import NO_PERMISSION_REQUIRED

from lps_core.contract import hookimpl

LOGGER_NAME = "lps.postings"
EVENTS = ("points_posted", "points_reversed", "bill_refunded", "tier_changed", "points_expiring", "credit_warning")
STATUS_ROUTE = "posting_log.status"
STATUS_PATH = "/plugins/posting-log/status"

postings_log = logging.getLogger(LOGGER_NAME)
log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def isoformat(moment: datetime) -> str:
    """UTC in ISO 8601 with a trailing Z, as LPS's API writes times."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class EventCounts:
    """Events written and failed, per kind, since this process started; safe across threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._written = Counter()
        self._failed = Counter()
        self.since = utcnow()

    def written(self, event):
        with self._lock:
            self._written[event] += 1

    def failed(self, event):
        with self._lock:
            self._failed[event] += 1

    def snapshot(self):
        with self._lock:
            return ({event: self._written[event] for event in EVENTS},
                    {event: self._failed[event] for event in EVENTS})


counts = EventCounts()


def _emit(event, fields):
    if not postings_log.isEnabledFor(logging.INFO):
        return
    record = {"event": event, **fields, "at": isoformat(utcnow())}
    try:
        postings_log.info(json.dumps(record, separators=(",", ":")), extra={"lps_event": record})
    except Exception:
        counts.failed(event)
        try:
            log.warning("could not write the %s event to the %s logger", event, LOGGER_NAME, exc_info=True)
        except Exception:  # the warning went through the same broken handler: the count must do
            pass
        return
    counts.written(event)


def _bill_fields(bill, transaction_id):
    return {"transaction_id": transaction_id, "outlet_id": bill.outlet_id, "bill_no": bill.bill_no,
            "member_id": bill.member_id}


def _posting_fields(posting):
    return {"points": posting.amount, "balance_after": posting.balance_after, "entry_id": posting.entry_id}


@hookimpl
def lps_on_points_posted(posting, bill):
    _emit("points_posted", {**_bill_fields(bill, bill.id), **_posting_fields(posting)})


@hookimpl
def lps_on_points_reversed(posting, bill):
    _emit("points_reversed", {
        **_bill_fields(bill, bill.bill_id), **_posting_fields(posting),
        "refund_id": bill.id, "refund_no": bill.refund_no,
    })


@hookimpl
def lps_on_bill_refunded(refunded):
    _emit("bill_refunded", {
        "transaction_id": refunded.bill_id, "outlet_id": refunded.outlet_id, "member_id": refunded.member_id,
        "refund_id": refunded.refund_id, "refund_no": refunded.refund_no, "refunded_cents": refunded.amount_cents,
        "points": -refunded.points, "whole": refunded.whole,
    })


@hookimpl
def lps_on_tier_changed(member_id, old_tier, new_tier):
    _emit("tier_changed", {"member_id": member_id, "old_tier": old_tier, "new_tier": new_tier})


@hookimpl
def lps_on_points_expiring(member_id, account_id, points, expires_on):
    _emit("points_expiring", {"member_id": member_id, "account_id": account_id, "points": points,
                              "expires_on": expires_on.isoformat()})


@hookimpl
def lps_on_credit_warning(card_id, member_id, used_cents, limit_cents):
    _emit("credit_warning", {"card_id": card_id, "member_id": member_id, "used_cents": used_cents,
                             "limit_cents": limit_cents})


def status_view(request):
    written, failed = counts.snapshot()
    return {
        "scope": "process",
        "pid": os.getpid(),
        "since": isoformat(counts.since),
        "logger": LOGGER_NAME,
        "logger_enabled": postings_log.isEnabledFor(logging.INFO),
        "events": written,
        "failed": failed,
    }


@hookimpl
def lps_includeme(config):
    config.add_route(STATUS_ROUTE, STATUS_PATH)
    # Public by design (counts only); declared so, as every staff-side route must declare its permission.
    config.add_view(status_view, route_name=STATUS_ROUTE, request_method="GET", renderer="json",
                    require_csrf=False, permission=NO_PERMISSION_REQUIRED)
