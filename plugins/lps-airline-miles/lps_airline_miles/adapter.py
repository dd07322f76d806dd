"""The airline-miles exchange (IPointExchange) over the batch folders.

Requests (outbox, one file each, named by the transfer's reference so that a resend writes nothing):
    LPS-<reference>-<action>.csv   action,reference,member_no,miles,lps_points,requested_at
with action `credit` (LPS points out: the airline credits miles), `debit` (miles in: the airline
debits them), `reverse_credit` or `reverse_debit`.

Answers (inbox):
    CONF-*.csv   action,reference,status,miles,airline_reference,reason   status accepted or rejected
    STMT-*.csv   action,reference,miles,member_no,booked_at               credit and debit bookings that stand

Until the airline's confirmation arrives a request is pending: LPS holds the points and asks again
with the same reference, which finds the file already sent and looks for the answer.
"""
from datetime import datetime, timezone

from zope.interface import implementer

from lps_core.contract import (
    IN,
    OUT,
    IPointExchange,
    PermanentFailure,
    Quote,
    StatementLine,
    TemporaryFailure,
    TransferReceipt,
    UnknownOutcome,
)

from lps_airline_miles.batch import ChecksumMismatch, csv_bytes, listed_rows, publish
from lps_airline_miles.settings import AirlineMilesSettings

NAME = "airline_miles"
ACTIONS = {OUT: "credit", IN: "debit"}
DIRECTIONS = {action: direction for direction, action in ACTIONS.items()}
REQUEST_HEADER = ("action", "reference", "member_no", "miles", "lps_points", "requested_at")
ACCEPTED, REJECTED = "accepted", "rejected"
UNKNOWN_MEMBER = "unknown_member"  # the airline's reason when it has no such member


@implementer(IPointExchange)
class AirlineMilesExchange:
    name = NAME
    label = "Airline miles (file batch)"
    settings_schema = AirlineMilesSettings

    def __init__(self, folders):
        self.outbox, self.inbox = folders.outbox, folders.inbox

    def __repr__(self):
        return f"AirlineMilesExchange(outbox={str(self.outbox)!r}, inbox={str(self.inbox)!r})"

    def quote(self, direction, points, settings):
        """LPS points out become miles at the rate; miles in become whole LPS points, so the miles
        must be a multiple of the rate (no mile is taken for nothing)."""
        _check_amount(points, settings)
        rate = settings.miles_per_point
        if direction == OUT:
            return Quote(OUT, points, points * rate, f"1 point = {rate} miles")
        if points % rate:
            raise PermanentFailure(f"miles must be a multiple of {rate}", field="points")
        return Quote(IN, points // rate, points, f"{rate} miles = 1 point")

    def transfer(self, transfer, settings):
        return self._request(ACTIONS[transfer.direction], transfer)

    def reverse(self, transfer, settings):
        return self._request(f"reverse_{ACTIONS[transfer.direction]}", transfer)

    def statement(self, period_start, period_end, settings):
        lines = []
        for row in self._rows("STMT-"):
            booked_at = datetime.fromisoformat(row["booked_at"])
            if booked_at.tzinfo is None:  # the airline books in UTC unless it says otherwise
                booked_at = booked_at.replace(tzinfo=timezone.utc)
            if row["action"] in DIRECTIONS and period_start <= booked_at < period_end:
                lines.append(StatementLine(row["reference"], DIRECTIONS[row["action"]], int(row["miles"]),
                                           row["member_no"]))
        return lines

    def _request(self, action, transfer) -> TransferReceipt:
        answer = self._confirmation(action, transfer.reference)
        if answer is not None:
            return _receipt(answer, transfer)
        name = f"LPS-{transfer.reference}-{action}.csv"
        row = (action, transfer.reference, transfer.partner_member_no, transfer.partner_points, transfer.lps_points,
               transfer.requested_at.isoformat())
        try:
            publish(self.outbox, name, csv_bytes(REQUEST_HEADER, [row]))
        except OSError as exc:
            raise TemporaryFailure(f"the outbox cannot be written: {exc}") from exc
        return TransferReceipt(pending=True, detail=f"sent in {name}; awaiting the airline's confirmation")

    def _confirmation(self, action, reference) -> dict | None:
        answers = [row for row in self._rows("CONF-") if row["action"] == action and row["reference"] == reference]
        return answers[-1] if answers else None

    def _rows(self, prefix):
        try:
            return listed_rows(self.inbox, prefix)
        except ChecksumMismatch as exc:
            raise TemporaryFailure(f"{exc} in the inbox does not match its checksum (still being copied?)") from None
        except OSError as exc:
            raise TemporaryFailure(f"the inbox cannot be read: {exc}") from exc


def _check_amount(points, settings):
    if settings.minimum is not None and points < settings.minimum:
        raise PermanentFailure(f"at least {settings.minimum} can be moved", field="points")
    if settings.step is not None and points % settings.step:
        raise PermanentFailure(f"the amount must be a multiple of {settings.step}", field="points")


def _receipt(answer, transfer) -> TransferReceipt:
    if answer["status"] == REJECTED:
        field = "partner_member_no" if answer.get("reason") == UNKNOWN_MEMBER else None
        raise PermanentFailure(f"the airline rejected it: {answer.get('reason') or 'no reason given'}", field=field)
    if answer["status"] != ACCEPTED:
        raise UnknownOutcome(f"the airline answered {answer['status']!r} in {answer['file']}")
    if int(answer["miles"]) != transfer.partner_points:
        raise UnknownOutcome(f"the airline confirmed {answer['miles']} miles, not {transfer.partner_points}: "
                             "reconcile with its statement")
    return TransferReceipt(partner_reference=answer.get("airline_reference") or None, detail=answer["file"])
