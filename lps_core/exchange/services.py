"""Moving points to and from exchange partners through their adapters (IPointExchange).

A transfer is keyed by (partner, direction, the partner's reference): a resend with the same
reference and content answers the transfer already recorded, and asks the adapter again only
while the transfer is still open; the same reference with other content is a Conflict.

OUT (LPS points to the partner): the member's points are debited, oldest-expiring lots first, in
the same transaction that records the transfer; then the adapter is called. A permanent failure
reverses the debit in the same request. A temporary failure, an unknown outcome or a receipt the
partner confirms later leaves the transfer open (pending or unknown) with its points held, until
a resend, `lps exchange retry` or reconciliation finishes it. Nothing is guessed.

IN (partner points to LPS): the adapter is called first; only a confirmed receipt credits the
member, with a lot that expires by the programme's expiry policy.

A reversal is asked of the adapter before anything moves back in LPS: an IN transfer's points
are locked and checked first, so the partner is never asked to undo what LPS could not take back.
Every posting is a ledger entry whose business key is `exchange:<partner>:<direction>:<reference>`
(and `...:reversal` for its reversal), with the partner named in its note.

Adapters are called while the request's transaction is open, so an adapter should answer within
a few seconds; one that cannot (a file batch) answers with a pending receipt."""
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from lps_core.cards.lifecycle import card_for_purpose
from lps_core.cards.models import Card
from lps_core.contract.exchange import (
    IN,
    OUT,
    Mismatch,
    PermanentFailure,
    TemporaryFailure,
    Transfer,
    UnknownOutcome,
)
from lps_core.db.idempotency import claim, replay_or_conflict
from lps_core.errors import Conflict, InsufficientBalance, NotFound, ServiceUnavailable, Unprocessable
from lps_core.exchange.models import (
    DONE,
    FAILED,
    OPEN_STATUSES,
    PENDING,
    REVERSED,
    UNKNOWN,
    PointTransfer,
)
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS
from lps_core.outlets.models import Outlet
from lps_core.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

EXCHANGE_IN = "exchange_in"  # the ledger entry kind of points credited from a partner
EXCHANGE_OUT = "exchange_out"  # the ledger entry kind of points debited to a partner
KIND = "exchange"  # the component kind of exchange adapters and their per-outlet switches
TRANSFERS = PointTransfer.__table__
TRANSFER_KEY = ("partner", "direction", "reference")
MAX_ERROR = 500
# Statuses whose LPS points count against a member's daily and monthly limits.
COUNTED_STATUSES = (PENDING, DONE, UNKNOWN)


@dataclass(frozen=True)
class TransferRequest:
    partner: str
    direction: str
    card_no: str
    points: int  # LPS points out, partner points in: what the member asks to move
    reference: str
    partner_member_no: str

    def fingerprint(self) -> str:
        return ledger.fingerprint_of({"direction": self.direction, "card_no": self.card_no, "points": self.points,
                                      "partner_member_no": self.partner_member_no})


@dataclass(frozen=True)
class TransferResult:
    transfer: PointTransfer
    replayed: bool = False
    reversal_pending: bool = False  # a reversal the partner confirms later; ask again with the same reference
    failed_field: str | None = None  # the request's field a permanent failure named


def business_key(transfer, reversal=False) -> str:
    key = f"exchange:{transfer.partner}:{transfer.direction}:{transfer.reference}"
    return f"{key}:reversal" if reversal else key


# -- finding the adapter and its settings ------------------------------------------------------------

def exchange_of(plugins, partner):
    """The adapter of `partner`, or 404 when no installed plugin provides it."""
    adapter = plugins.of_kind(KIND).get(partner)
    if adapter is None:
        raise NotFound(f"no exchange partner {partner!r}", {"partner": "no such exchange partner"})
    return adapter


def settings_at(db, plugins, partner, outlet):
    """The exchange's settings at the outlet; 422 naming `partner` when it is off there."""
    state = plugins.switches.require(db, KIND, partner, outlet.id, field="partner", outlet_code=outlet.code,
                                     what="exchange partner")
    return state.settings


# -- quotes and limits --------------------------------------------------------------------------------

def quote(db, plugins, outlet, partner, direction, points):
    """The adapter's Quote for moving `points` at the outlet, after LPS's own minimum and step."""
    adapter = exchange_of(plugins, partner)
    settings = settings_at(db, plugins, partner, outlet)
    check_amount(settings, direction, points)
    return _quote(adapter, direction, points, settings)


def setting_for(settings, direction, name):
    """The exchange's setting `name` for one direction: `<direction>_<name>` (out_minimum) where the
    schema declares it and it is set, else the shared `name`, else None (no such rule)."""
    own = getattr(settings, f"{direction}_{name}", None)
    return own if own is not None else getattr(settings, name, None)


def check_amount(settings, direction, points):
    """The minimum and step of the exchange's settings for the direction, where its schema declares them."""
    minimum, step = setting_for(settings, direction, "minimum"), setting_for(settings, direction, "step")
    if minimum is not None and points < minimum:
        raise Unprocessable(f"at least {minimum} points can be moved", {"points": f"must be at least {minimum}"})
    if step is not None and points % step:
        raise Unprocessable(f"points must be a multiple of {step}", {"points": f"must be a multiple of {step}"})


def _quote(adapter, direction, points, settings):
    try:
        quoted = adapter.quote(direction, points, settings)
    except PermanentFailure as failure:
        raise Unprocessable(failure.message, {failure.field or "points": failure.message}) from None
    except (TemporaryFailure, UnknownOutcome) as failure:
        raise ServiceUnavailable(f"the exchange partner cannot quote now: {failure.message}") from None
    if quoted.lps_points <= 0 or quoted.partner_points <= 0:
        raise Unprocessable(f"{points} points are too few to convert at {quoted.rate}",
                            {"points": "too few to convert"})
    return quoted


def check_limits(db, programme, settings, partner, direction, member_id, lps_points, now):
    """The daily and monthly limits of the exchange's settings: LPS points one member moves in one
    direction in the day and month (programme time zone) of `now`, failed and reversed transfers
    not counted."""
    for period, name in (("day", "daily_limit"), ("month", "monthly_limit")):
        limit = setting_for(settings, direction, name)
        if limit is None:
            continue
        moved = db.scalar(select(func.coalesce(func.sum(PointTransfer.lps_points), 0)).where(
            PointTransfer.partner == partner, PointTransfer.direction == direction,
            PointTransfer.member_id == member_id, PointTransfer.status.in_(COUNTED_STATUSES),
            PointTransfer.requested_at >= programme.period_start(period, now)))
        left = max(limit - int(moved), 0)
        if lps_points > left:
            raise Unprocessable(f"the {name.replace('_', ' ')} of {limit} points leaves {left} for this member",
                                {"points": f"at most {left} more LPS points this {period}"})


# -- transfers ----------------------------------------------------------------------------------------

def request_transfer(db, plugins, programme, outlet, request: TransferRequest, now=None) -> TransferResult:
    """Record and carry out a transfer, or answer the one already recorded under its reference (and
    ask the adapter again while it is open)."""
    now = as_utc(now or utcnow())
    adapter = exchange_of(plugins, request.partner)
    settings = settings_at(db, plugins, request.partner, outlet)
    fingerprint = request.fingerprint()
    recorded = _recorded(db, request, fingerprint)
    if recorded is not None:
        if recorded.transfer.status not in OPEN_STATUSES:
            return recorded
        return _advance(db, adapter, settings, programme, recorded.transfer, now, replayed=True)
    card = card_for_purpose(db, request.card_no, now, "redeem" if request.direction == OUT else "earn",
                            tz=programme.timezone)
    check_amount(settings, request.direction, request.points)
    quoted = _quote(adapter, request.direction, request.points, settings)
    # The member's points account is locked first, so that two transfers of one member cannot both
    # pass the daily and monthly limits (lock order: account, then lots, as the ledger's).
    account_id = ledger.get_or_create_account(db, POINTS, member_id=card.member_id)
    ledger.lock_account(db, account_id)
    check_limits(db, programme, settings, request.partner, request.direction, card.member_id, quoted.lps_points, now)
    transfer_id = claim(db, TRANSFERS, TRANSFER_KEY, {
        "partner": request.partner, "direction": request.direction, "reference": request.reference,
        "partner_member_no": request.partner_member_no, "member_id": card.member_id, "card_id": card.card_id,
        "lps_points": quoted.lps_points, "partner_points": quoted.partner_points, "status": PENDING,
        "attempts": 0, "outlet_id": outlet.id, "requested_at": now, "updated_at": now, "fingerprint": fingerprint,
    })
    if transfer_id is None:  # a simultaneous request with this reference claimed it first
        return _recorded(db, request, fingerprint)
    transfer = db.get(PointTransfer, transfer_id)
    if request.direction == OUT:
        transfer.entry_id = _debit(db, transfer, account_id, now).entry_id
    return _advance(db, adapter, settings, programme, transfer, now)


def _recorded(db, request, fingerprint) -> TransferResult | None:
    transfer = db.scalar(select(PointTransfer).where(
        PointTransfer.partner == request.partner, PointTransfer.direction == request.direction,
        PointTransfer.reference == request.reference).with_for_update())
    if transfer is None:
        return None
    replay_or_conflict(transfer.fingerprint, fingerprint,
                       f"reference {request.reference} was already used for another transfer",
                       {"reference": "already used with other content"})
    return TransferResult(transfer, replayed=True)


def _debit(db, transfer, account_id, now):
    try:
        return ledger.debit(db, account_id, transfer.lps_points, kind=EXCHANGE_OUT,
                            business_key=business_key(transfer), fingerprint=transfer.fingerprint, occurred_at=now,
                            outlet_id=transfer.outlet_id, note=_note(transfer), now=now)
    except InsufficientBalance as exc:
        available = exc.fields.get("amount", "").removeprefix("only ").removesuffix(" available") or "0"
        raise InsufficientBalance(f"the transfer needs {transfer.lps_points} points; the member has {available}",
                                  {"points": f"needs {transfer.lps_points} points, the member has {available}"}) \
            from None


def _note(transfer) -> str:
    return f"exchange {transfer.direction} {transfer.partner} {transfer.reference}: " \
           f"{transfer.partner_points} partner points to {transfer.partner_member_no}"[:500]


def contract_transfer(transfer) -> Transfer:
    """The transfer as the adapter sees it."""
    return Transfer(transfer.direction, transfer.reference, transfer.partner_member_no, transfer.lps_points,
                    transfer.partner_points, transfer.member_id, as_utc(transfer.requested_at))


def _advance(db, adapter, settings, programme, transfer, now, replayed=False) -> TransferResult:
    """Ask the adapter to carry out an open transfer and record what it answered."""
    failed_field = None
    transfer.attempts += 1
    transfer.updated_at = now
    try:
        receipt = adapter.transfer(contract_transfer(transfer), settings)
    except PermanentFailure as failure:
        fail_transfer(db, transfer, failure.message, now)
        failed_field = failure.field
    except TemporaryFailure as failure:
        transfer.status, transfer.last_error = PENDING, failure.message[:MAX_ERROR]
    except UnknownOutcome as failure:
        transfer.status, transfer.last_error = UNKNOWN, failure.message[:MAX_ERROR]
    except Exception as exc:  # an adapter's bug after it may have acted: an unknown outcome, not a rollback
        log.exception("exchange %s failed on transfer %s", transfer.partner, transfer.reference)
        transfer.status, transfer.last_error = UNKNOWN, f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    else:
        if receipt.pending:
            transfer.status, transfer.last_error = PENDING, (receipt.detail or None)
        else:
            complete_transfer(db, programme, transfer, receipt.partner_reference, now)
    db.flush()
    return TransferResult(transfer, replayed=replayed, failed_field=failed_field)


def fail_transfer(db, transfer, message, now):
    """The partner refused for good: an OUT transfer's held points go back to the member."""
    if transfer.entry_id is not None and transfer.reversal_entry_id is None:
        transfer.reversal_entry_id = ledger.reverse(
            db, transfer.entry_id, business_key=business_key(transfer, reversal=True),
            fingerprint=transfer.fingerprint, occurred_at=now, note=f"refused: {_note(transfer)}"[:500]).entry_id
    transfer.status, transfer.last_error, transfer.completed_at = FAILED, message[:MAX_ERROR], now


def complete_transfer(db, programme, transfer, partner_reference, now):
    """The partner confirmed: an IN transfer's points are credited now, in a lot of their own."""
    if transfer.direction == IN and transfer.entry_id is None:
        account_id = ledger.get_or_create_account(db, POINTS, member_id=transfer.member_id)
        transfer.entry_id = ledger.credit(
            db, account_id, transfer.lps_points, kind=EXCHANGE_IN, business_key=business_key(transfer),
            fingerprint=transfer.fingerprint, occurred_at=now, expires_at=programme.expiry.lot_expires_at(now),
            outlet_id=transfer.outlet_id, note=_note(transfer)).entry_id
    transfer.status, transfer.last_error, transfer.completed_at = DONE, None, now
    transfer.partner_reference = (partner_reference or None) and partner_reference[:64]


def find_transfer(db, partner, reference, outlet_id, direction=None, *, lock=False) -> PointTransfer:
    """The transfer of `partner` under `reference` requested at the outlet (another outlet's
    answers 404, as an unknown one); `direction` tells the two apart when one reference was used
    both ways (422 naming it when needed and not given)."""
    query = select(PointTransfer).where(PointTransfer.partner == partner, PointTransfer.reference == reference,
                                        PointTransfer.outlet_id == outlet_id)
    if direction is not None:
        query = query.where(PointTransfer.direction == direction)
    found = list(db.scalars(query.with_for_update() if lock else query))
    if not found:
        raise NotFound(f"no transfer {reference} with {partner}", {"reference": "no such transfer"})
    if len(found) > 1:
        raise Unprocessable(f"reference {reference} was used in both directions: name the direction",
                            {"direction": "is required for this reference"})
    return found[0]


def reverse_transfer(db, plugins, outlet, partner, reference, direction=None, now=None) -> TransferResult:
    """Undo a transfer at the partner, then in the ledger; only the outlet it was requested at may.
    Reversing it again answers the reversed transfer; a failed transfer has nothing to reverse
    (409). An open transfer may be reversed too: that cancels it at the partner and releases its
    held points."""
    now = as_utc(now or utcnow())
    adapter = exchange_of(plugins, partner)
    settings = settings_at(db, plugins, partner, outlet)
    transfer = find_transfer(db, partner, reference, outlet.id, direction, lock=True)
    if transfer.status == REVERSED:
        return TransferResult(transfer, replayed=True)
    if transfer.status == FAILED:
        raise Conflict(f"transfer {reference} failed: nothing was moved, so there is nothing to reverse",
                       {"reference": "failed, nothing to reverse"})
    if transfer.direction == IN and transfer.entry_id is not None:
        _check_points_can_go_back(db, transfer)
    try:
        receipt = adapter.reverse(contract_transfer(transfer), settings)
    except PermanentFailure as failure:
        raise Conflict(f"the exchange partner refuses to reverse {reference}: {failure.message}",
                       {failure.field or "reference": failure.message}) from None
    except (TemporaryFailure, UnknownOutcome) as failure:
        raise ServiceUnavailable(f"the exchange partner could not reverse {reference} now ({failure.message}): "
                                 "send the reversal again") from None
    transfer.updated_at = now
    if receipt.pending:
        transfer.last_error = (receipt.detail or "the reversal awaits the partner's confirmation")[:MAX_ERROR]
        db.flush()
        return TransferResult(transfer, reversal_pending=True)
    if transfer.entry_id is not None:
        transfer.reversal_entry_id = ledger.reverse(
            db, transfer.entry_id, business_key=business_key(transfer, reversal=True),
            fingerprint=transfer.fingerprint, occurred_at=now, note=f"reversed: {_note(transfer)}"[:500]).entry_id
    transfer.status, transfer.last_error, transfer.completed_at = REVERSED, None, now
    db.flush()
    return TransferResult(transfer)


def _check_points_can_go_back(db, transfer):
    """Lock the member's points and check they still hold what the IN transfer credited."""
    account_id = ledger.get_or_create_account(db, POINTS, member_id=transfer.member_id)
    account = ledger.lock_account(db, account_id)
    if account.balance < transfer.lps_points:
        raise InsufficientBalance(f"the transfer credited {transfer.lps_points} points; the member has "
                                  f"{account.balance} left", {"reference": f"only {account.balance} points left"})


# -- retries and reconciliation ---------------------------------------------------------------------

def retry_open_transfers(db, plugins, programme, partner=None, now=None) -> list[PointTransfer]:
    """Ask the adapters again about every open (pending or unknown) transfer, with the settings of
    the outlet each was requested at. Used by `lps exchange retry`; one transaction per call."""
    now = as_utc(now or utcnow())
    query = select(PointTransfer).where(PointTransfer.status.in_(OPEN_STATUSES)).order_by(PointTransfer.id)
    if partner is not None:
        query = query.where(PointTransfer.partner == partner)
    advanced = []
    for transfer in db.scalars(query.with_for_update()).all():
        if transfer.partner in plugins.of_kind(KIND):
            advanced.append(_ask_again(db, plugins, programme, transfer, now))
    return advanced


def retry_transfer(db, plugins, programme, transfer_id, outlet_ids=None, now=None) -> PointTransfer:
    """Ask the partner again about one open transfer (a staff screen's button), with the settings
    of the outlet it was requested at; NotFound outside `outlet_ids` (None: every outlet), and a
    Conflict for a transfer that is not open."""
    now = as_utc(now or utcnow())
    transfer = db.scalar(select(PointTransfer).where(PointTransfer.id == transfer_id).with_for_update())
    if transfer is None or (outlet_ids is not None and transfer.outlet_id not in outlet_ids):
        raise NotFound(f"no transfer {transfer_id}", {"id": "no such transfer"})
    if transfer.status not in OPEN_STATUSES:
        raise Conflict(f"transfer {transfer.reference} is {transfer.status}: there is nothing to ask the partner",
                       {"id": f"is {transfer.status}"})
    exchange_of(plugins, transfer.partner)
    return _ask_again(db, plugins, programme, transfer, now)


def _ask_again(db, plugins, programme, transfer, now) -> PointTransfer:
    adapter = plugins.of_kind(KIND)[transfer.partner]
    settings = plugins.switches.state(db, KIND, transfer.partner, transfer.outlet_id).settings
    return _advance(db, adapter, settings, programme, transfer, now).transfer


def reconcile(db, plugins, partner, period_start: datetime, period_end: datetime, *, programme=None,
              settle_open=False) -> list[Mismatch]:
    """Compare the partner's statement of [period_start, period_end) with LPS's transfers
    requested in that period.

    - missing_at_partner: LPS counts the transfer (done, or open), the statement has no line;
    - missing_at_lps: the statement has a line LPS has no counted transfer for (none, failed, reversed);
    - amount_differs: both have it, with other partner points;
    - open_at_lps: the statement shows a transfer LPS still holds open. With settle_open (and the
      programme, for the expiry of IN credits) such a transfer is completed as the statement shows,
      and is not reported.
    """
    adapter = exchange_of(plugins, partner)
    settings = plugins.switches.state(db, KIND, partner, None).settings
    start, end = as_utc(period_start), as_utc(period_end)
    try:
        lines = adapter.statement(start, end, settings)
    except (TemporaryFailure, UnknownOutcome) as failure:
        raise ServiceUnavailable(f"the statement of {partner} is not available: {failure.message}") from None
    except PermanentFailure as failure:
        raise Unprocessable(f"the statement of {partner} cannot be read: {failure.message}",
                            {"partner": failure.message}) from None
    on_statement = {(line.direction, line.reference): line for line in lines}
    transfers = db.scalars(select(PointTransfer).where(
        PointTransfer.partner == partner, PointTransfer.requested_at >= start, PointTransfer.requested_at < end)
        .order_by(PointTransfer.id)).all()
    by_key = {(transfer.direction, transfer.reference): transfer for transfer in transfers}
    mismatches = []
    now = utcnow()
    for transfer in transfers:
        if transfer.status not in COUNTED_STATUSES:
            continue
        line = on_statement.get((transfer.direction, transfer.reference))
        if line is None:
            mismatches.append(_mismatch(transfer, "missing_at_partner", None))
        elif line.partner_points != transfer.partner_points:
            mismatches.append(_mismatch(transfer, "amount_differs", line.partner_points))
        elif transfer.status in OPEN_STATUSES:
            if settle_open and programme is not None:
                transfer.attempts += 1
                transfer.updated_at = now
                complete_transfer(db, programme, transfer, None, now)
                db.flush()
            else:
                mismatches.append(_mismatch(transfer, "open_at_lps", line.partner_points))
    for key, line in on_statement.items():
        transfer = by_key.get(key)
        if transfer is None or transfer.status not in COUNTED_STATUSES:
            mismatches.append(Mismatch(line.reference, "missing_at_lps", line.direction, None, line.partner_points,
                                       None, {"lps_status": transfer.status if transfer else None,
                                              "partner_member_no": line.partner_member_no}))
    return mismatches


def _mismatch(transfer, problem, statement_points) -> Mismatch:
    return Mismatch(transfer.reference, problem, transfer.direction, transfer.partner_points, statement_points,
                    transfer.lps_points, {"lps_status": transfer.status, "partner_member_no": transfer.partner_member_no})


def card_no_of(db, transfer) -> str:
    return db.scalar(select(Card.card_no).where(Card.id == transfer.card_id))


def outlet_code_of(db, transfer) -> str:
    return db.scalar(select(Outlet.code).where(Outlet.id == transfer.outlet_id))

