"""Point exchanges: an adapter to another programme (an airline's miles, a partner merchant's
points). LPS quotes, then moves points in or out through the ledger; the adapter talks to the partner.

Failure contract: an adapter raises TemporaryFailure when trying again later may succeed (the
partner is down), PermanentFailure when it cannot (unknown member number, refused), and
UnknownOutcome when it cannot tell whether the partner acted (a timeout after sending). A transfer
with an unknown outcome is neither posted twice nor guessed: it is retried with the same
reference, which the partner treats idempotently, or settled by reconciliation.

A partner that confirms later (a file batch, a queue) returns a TransferReceipt with pending=True:
LPS keeps the transfer pending (an OUT transfer holding its points) and asks again with the same
reference until the receipt is final or the adapter raises PermanentFailure."""
from dataclasses import dataclass, field
from datetime import datetime

from zope.interface import Attribute, Interface

from lps_core.contract.settings import OutletSettings
from lps_core.validation import Field, Int

MAX_POINTS = 10**9

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
    """The partner's answer. pending=True: it took the transfer (or its reversal) and will confirm
    later; LPS asks again with the same reference."""

    partner_reference: str | None = None
    detail: str = ""
    pending: bool = False


@dataclass(frozen=True)
class StatementLine:
    reference: str
    direction: str
    partner_points: int
    partner_member_no: str = ""


@dataclass(frozen=True)
class Mismatch:
    """A difference between the partner's statement and LPS's transfers. The partner points of
    each side are None where that side has no such transfer."""

    reference: str
    problem: str  # "missing_at_partner", "missing_at_lps", "amount_differs", "open_at_lps"
    direction: str
    lps_partner_points: int | None  # what LPS recorded
    statement_partner_points: int | None  # what the partner's statement says
    lps_points: int | None = None  # the LPS points of LPS's transfer
    details: dict = field(default_factory=dict)


class ExchangeSettings(OutletSettings):
    """A base for an exchange's per-outlet settings with the limits LPS checks itself before it calls
    the adapter. `minimum` and `step` apply to the amount a member asks to move (LPS points out,
    partner points in); the daily and monthly limits to the LPS points one member moves in one
    direction in a day or a month of the programme's time zone. None: no such limit. Each has a
    field for one direction only (`out_minimum`, `in_daily_limit`...), which wins over the shared
    one: a minimum in counts the partner's points, which may be worth far fewer than LPS's. An
    adapter's own schema may declare the same fields instead of deriving from this one."""

    minimum: Int(1, MAX_POINTS) | None = Field(None, description="The smallest amount a member may move")
    step: Int(1, MAX_POINTS) | None = Field(None, description="Amounts must be a multiple of this")
    daily_limit: Int(1, MAX_POINTS) | None = Field(None, description="LPS points per member, direction and day")
    monthly_limit: Int(1, MAX_POINTS) | None = Field(None, description="LPS points per member, direction and "
                                                                        "month")
    out_minimum: Int(1, MAX_POINTS) | None = Field(None, description="The smallest amount of LPS points out")
    out_step: Int(1, MAX_POINTS) | None = Field(None, description="LPS points out must be a multiple of this")
    out_daily_limit: Int(1, MAX_POINTS) | None = Field(None, description="LPS points out per member and day")
    out_monthly_limit: Int(1, MAX_POINTS) | None = Field(None, description="LPS points out per member and month")
    in_minimum: Int(1, MAX_POINTS) | None = Field(None, description="The smallest amount of partner points in")
    in_step: Int(1, MAX_POINTS) | None = Field(None, description="Partner points in must be a multiple of this")
    in_daily_limit: Int(1, MAX_POINTS) | None = Field(None, description="LPS points in per member and day")
    in_monthly_limit: Int(1, MAX_POINTS) | None = Field(None, description="LPS points in per member and month")


class IPointExchange(Interface):
    name = Attribute("The partner's code")
    label = Attribute("A short name for staff screens")
    settings_schema = Attribute("A contract.OutletSettings subclass of its per-outlet settings (rates, limits), "
                                "or None; see ExchangeSettings for the limits LPS checks")

    def quote(direction, points, settings):
        """A Quote for moving `points` (LPS points for OUT, partner points for IN); raise
        PermanentFailure naming the field when the amount breaks the minimum or the step."""

    def transfer(transfer, settings):
        """Carry a Transfer out at the partner (OUT: credit the partner's member; IN: debit them);
        return a TransferReceipt, pending if the partner confirms later. Idempotent on
        transfer.reference: asking again returns the same answer. Raises a failure of this module."""

    def reverse(transfer, settings):
        """Undo a transfer at the partner; return a TransferReceipt (pending if the partner
        confirms later). Idempotent on transfer.reference; raises a failure of this module."""

    def statement(period_start, period_end, settings):
        """The partner's statement of transfers booked in [period_start, period_end), as
        StatementLines (reversed transfers left out), for reconciliation. Raises TemporaryFailure
        when the statement is not available yet."""
