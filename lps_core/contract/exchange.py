"""Point exchanges: an adapter to another programme (an airline's miles, a partner merchant's
points). LPS quotes, then moves points in or out through the ledger; the adapter talks to the partner.

Failure contract: an adapter raises TemporaryFailure when trying again later may succeed (the
partner is down), PermanentFailure when it cannot (unknown member number, refused), and
UnknownOutcome when it cannot tell whether the partner acted (a timeout after sending). A transfer
with an unknown outcome is neither posted twice nor guessed: it is retried with the same
reference, which the partner treats idempotently, or settled by reconciliation."""
from dataclasses import dataclass, field
from datetime import datetime

from zope.interface import Attribute, Interface

IN = "in"  # partner points into LPS points
OUT = "out"  # LPS points out to the partner


class ExchangeFailure(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


class TemporaryFailure(ExchangeFailure):
    """Try again later with the same reference."""


class PermanentFailure(ExchangeFailure):
    """Trying again cannot help."""


class UnknownOutcome(ExchangeFailure):
    """The partner may or may not have acted: retry with the same reference, or reconcile."""


@dataclass(frozen=True)
class Quote:
    direction: str
    lps_points: int
    partner_points: int
    rate: str  # as the partner's contract states it, for the member's screen


@dataclass(frozen=True)
class Transfer:
    """One transfer as LPS asks the adapter to carry it out; `reference` is the idempotency key."""

    direction: str
    reference: str
    partner_member_no: str
    lps_points: int
    partner_points: int
    member_id: int
    requested_at: datetime


@dataclass(frozen=True)
class TransferReceipt:
    partner_reference: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class StatementLine:
    reference: str
    direction: str
    partner_points: int
    partner_member_no: str = ""


@dataclass(frozen=True)
class Mismatch:
    reference: str
    problem: str  # "missing_at_partner", "missing_at_lps", "amount_differs"
    lps_points: int | None = None
    partner_points: int | None = None
    details: dict = field(default_factory=dict)


class IPointExchange(Interface):
    name = Attribute("The partner's code")
    label = Attribute("A short name for staff screens")
    settings_schema = Attribute("A contract.OutletSettings subclass of its settings (rates, limits), or None")

    def quote(direction, points, settings):
        """A Quote for moving `points` (LPS points for OUT, partner points for IN); raise
        PermanentFailure naming the field when the amount breaks the minimum or the step."""

    def transfer(transfer, settings):
        """Carry a Transfer out at the partner; return a TransferReceipt. Idempotent on
        transfer.reference. Raises a failure of this module."""

    def reverse(transfer, settings):
        """Undo a transfer at the partner (idempotent on its reference); raises a failure."""

    def statement(period_start, period_end, settings):
        """The partner's statement of the period, as StatementLines (for reconciliation)."""
