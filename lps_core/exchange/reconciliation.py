"""Reconciliation that staff finish: the mismatches between a partner's statement and LPS's
transfers are recorded (exchange_mismatches), shown on the staff screens and through the API, and
resolved one by one with a reason.

Recording: `record_reconciliation` runs services.reconcile for a period and keeps what it found,
one row per (partner, direction, reference, problem). Running it again updates those rows; an open
row the run no longer finds (a retry finished the transfer meanwhile) becomes `cleared`; a
resolved row stays resolved.

Resolving (`resolve_mismatch`): a transfer LPS still holds open is first finished as the statement
shows it: booked at the partner (open_at_lps, amount_differs) it is completed (`settled`); missing
there it is failed and its held points given back (`cancelled`). Then, when staff give points, a
linked adjustment of the member's points is posted through the ledger under the business key
`exchange:<partner>:<direction>:<reference>:<problem>:adjustment`, so it is posted once however
often the form is sent. The ledger entry is kept on the mismatch, the member's ledger shows it
with the mismatch named in its note, and every resolution is audited. Nothing is guessed: what
to post is the operator's decision; `suggested_points` only proposes it."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from lps_core.audit import services as audit
from lps_core.cards.services import get_card
from lps_core.contract.exchange import OUT
from lps_core.db.idempotency import claim
from lps_core.errors import Conflict, InsufficientBalance, NotFound, Unprocessable
from lps_core.exchange import services
from lps_core.exchange.models import (
    ACCEPTED,
    ADJUSTED,
    AMOUNT_DIFFERS,
    CANCELLED,
    MISMATCH_CLEARED,
    MISMATCH_OPEN,
    MISMATCH_RESOLVED,
    MISSING_AT_LPS,
    MISSING_AT_PARTNER,
    OPEN_STATUSES,
    SETTLED,
    ExchangeMismatch,
    PointTransfer,
)
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS
from lps_core.timeutil import as_utc, utcnow

EXCHANGE_ADJUSTMENT = "exchange_adjustment"  # the ledger entry kind of a resolution's adjustment
MISMATCHES = ExchangeMismatch.__table__
MISMATCH_KEY = ("partner", "direction", "reference", "problem")
RESOLVE_ACTION = "exchange.mismatch.resolve"
RECONCILE_ACTION = "exchange.reconcile"


@dataclass(frozen=True)
class Resolution:
    """What staff decided: `points` (signed LPS points: + credited to the member, - debited; 0 posts
    no adjustment), the reason (required), and the member's card when the mismatch names no member
    (a statement line LPS has no transfer for)."""

    points: int
    reason: str
    card_no: str | None = None


@dataclass(frozen=True)
class Resolved:
    mismatch: ExchangeMismatch
    replayed: bool = False


def adjustment_key(mismatch) -> str:
    return (f"exchange:{mismatch.partner}:{mismatch.direction}:{mismatch.reference}:{mismatch.problem}"
            ":adjustment")


# -- recording ----------------------------------------------------------------------------------------

def record_reconciliation(db, plugins, programme, partner, period_start: datetime, period_end: datetime, *,
                          settle_open=False, now=None) -> list[ExchangeMismatch]:
    """Reconcile the period and keep what was found; returns the mismatches found now, open or
    already resolved (the cleared ones are not found now)."""
    now = as_utc(now or utcnow())
    start, end = as_utc(period_start), as_utc(period_end)
    found = services.reconcile(db, plugins, partner, start, end, programme=programme, settle_open=settle_open)
    rows = [_record(db, partner, mismatch, start, end, now) for mismatch in found]
    seen = {row.id for row in rows}
    for row in db.scalars(select(ExchangeMismatch).where(
            ExchangeMismatch.partner == partner, ExchangeMismatch.status == MISMATCH_OPEN,
            ExchangeMismatch.period_start >= start, ExchangeMismatch.period_end <= end).with_for_update()):
        if row.id not in seen:
            row.status = MISMATCH_CLEARED
    db.flush()
    return rows


def _record(db, partner, mismatch, start, end, now) -> ExchangeMismatch:
    transfer = db.scalar(select(PointTransfer).where(
        PointTransfer.partner == partner, PointTransfer.direction == mismatch.direction,
        PointTransfer.reference == mismatch.reference))
    seen = {"lps_partner_points": mismatch.lps_partner_points,
            "statement_partner_points": mismatch.statement_partner_points,
            "lps_points": mismatch.lps_points if mismatch.lps_points is not None
            else (transfer.lps_points if transfer else None),
            "transfer_id": transfer.id if transfer else None, "member_id": transfer.member_id if transfer else None,
            "partner_member_no": (mismatch.details.get("partner_member_no") or None),
            "period_start": start, "period_end": end, "last_seen_at": now}
    mismatch_id = claim(db, MISMATCHES, MISMATCH_KEY, {
        "partner": partner, "direction": mismatch.direction, "reference": mismatch.reference,
        "problem": mismatch.problem, "found_at": now, "status": MISMATCH_OPEN, **seen})
    if mismatch_id is not None:
        return db.get(ExchangeMismatch, mismatch_id)
    row = db.scalar(select(ExchangeMismatch).where(
        ExchangeMismatch.partner == partner, ExchangeMismatch.direction == mismatch.direction,
        ExchangeMismatch.reference == mismatch.reference, ExchangeMismatch.problem == mismatch.problem)
        .with_for_update())
    if row.status == MISMATCH_RESOLVED:
        row.last_seen_at = now  # what staff decided stands; the figures it was decided on stay
    else:
        for name, value in seen.items():
            setattr(row, name, value)
        row.status = MISMATCH_OPEN
    return row


# -- reading ------------------------------------------------------------------------------------------

def mismatch_query(partner=None, period_start=None, period_end=None, status=None, outlet_ids=None):
    """The mismatches of a partner found for a period overlapping [period_start, period_end),
    newest first; with `outlet_ids` (an operator's scope) only those of transfers at those outlets."""
    query = select(ExchangeMismatch)
    if partner:
        query = query.where(ExchangeMismatch.partner == partner)
    if period_start is not None:
        query = query.where(ExchangeMismatch.period_end > as_utc(period_start))
    if period_end is not None:
        query = query.where(ExchangeMismatch.period_start < as_utc(period_end))
    if status:
        query = query.where(ExchangeMismatch.status == status)
    if outlet_ids is not None:
        query = query.join(PointTransfer, PointTransfer.id == ExchangeMismatch.transfer_id).where(
            PointTransfer.outlet_id.in_(sorted(outlet_ids)))
    return query


def get_mismatch(db, mismatch_id, outlet_ids=None, *, partner=None, lock=False) -> ExchangeMismatch:
    """The mismatch; NotFound when it does not exist, is another partner's than `partner` (when
    given), or when `outlet_ids` (None: every outlet) does not hold its transfer's outlet (a
    mismatch without a transfer is the whole group's)."""
    query = select(ExchangeMismatch).where(ExchangeMismatch.id == mismatch_id)
    if partner is not None:
        query = query.where(ExchangeMismatch.partner == partner)
    mismatch = db.scalar(query.with_for_update() if lock else query)
    if mismatch is None or (outlet_ids is not None and _outlet_of(db, mismatch) not in outlet_ids):
        raise NotFound(f"no mismatch {mismatch_id}", {"id": "no such mismatch"})
    return mismatch


def _outlet_of(db, mismatch) -> int | None:
    if mismatch.transfer_id is None:
        return None
    return db.scalar(select(PointTransfer.outlet_id).where(PointTransfer.id == mismatch.transfer_id))


def suggested_points(mismatch, transfer=None) -> int:
    """The adjustment that would make LPS match the statement, in LPS points at the transfer's own
    rate: what the member should get back (+) or give back (-). 0 where an open transfer is finished
    instead, or where LPS knows no rate (a statement line with no transfer at all)."""
    if transfer is not None and transfer.status in OPEN_STATUSES:
        return 0
    sign = 1 if mismatch.direction == OUT else -1  # out: LPS took the points; in: LPS gave them
    if mismatch.problem == MISSING_AT_PARTNER:
        return sign * (mismatch.lps_points or 0)
    if mismatch.problem == MISSING_AT_LPS:
        return -sign * (mismatch.lps_points or 0)
    if mismatch.problem == AMOUNT_DIFFERS and mismatch.lps_partner_points and mismatch.lps_points:
        difference = mismatch.statement_partner_points - mismatch.lps_partner_points
        return -sign * round(difference * mismatch.lps_points / mismatch.lps_partner_points)
    return 0


# -- resolving ----------------------------------------------------------------------------------------

def resolve_mismatch(db, programme, mismatch_id, resolution: Resolution, *, actor, outlet_ids=None, partner=None,
                     address=None, now=None) -> Resolved:
    """Resolve an open mismatch as staff decided (module docstring). The same resolution sent again
    answers the resolved mismatch (replayed); another one for a resolved mismatch is a Conflict."""
    now = as_utc(now or utcnow())
    mismatch = get_mismatch(db, mismatch_id, outlet_ids, partner=partner, lock=True)
    if mismatch.status == MISMATCH_RESOLVED:
        if (mismatch.adjustment_points or 0, mismatch.reason) == (resolution.points, resolution.reason):
            return Resolved(mismatch, replayed=True)
        raise Conflict(f"mismatch {mismatch_id} was resolved already", {"id": "already resolved"})
    if mismatch.status == MISMATCH_CLEARED:
        raise Conflict(f"mismatch {mismatch_id} was cleared: the last reconciliation no longer found it",
                       {"id": "no longer a mismatch"})
    transfer = db.get(PointTransfer, mismatch.transfer_id, with_for_update=True) if mismatch.transfer_id else None
    member_id = _member_of(db, mismatch, transfer, resolution)
    before = {"status": mismatch.status, "transfer_status": transfer.status if transfer else None}
    outcome, entry_id = _finish_open_transfer(db, programme, mismatch, transfer, resolution.reason, now)
    if resolution.points:
        entry_id = _adjust(db, programme, mismatch, member_id, resolution, now)
        outcome = ADJUSTED
    mismatch.status, mismatch.resolution = MISMATCH_RESOLVED, outcome or ACCEPTED
    mismatch.adjustment_points, mismatch.entry_id = resolution.points, entry_id
    mismatch.member_id, mismatch.reason = member_id, resolution.reason
    mismatch.resolved_by, mismatch.resolved_at = actor.name[:100], now
    db.flush()
    audit.record(db, actor=actor, action=RESOLVE_ACTION, target=("exchange_mismatch", mismatch.id), before=before,
                 after={"status": mismatch.status, "resolution": mismatch.resolution, "points": resolution.points,
                        "entry_id": entry_id, "reason": resolution.reason, "partner": mismatch.partner,
                        "reference": mismatch.reference, "problem": mismatch.problem,
                        "transfer_status": transfer.status if transfer else None},
                 address=address, outlet_id=transfer.outlet_id if transfer else None)
    return Resolved(mismatch)


def _member_of(db, mismatch, transfer, resolution) -> int | None:
    if transfer is not None:
        return transfer.member_id
    if resolution.card_no:
        card = get_card(db, resolution.card_no)
        if card.member_id is None:
            raise Unprocessable(f"card {card.card_no} has no member", {"card_no": "has no member"})
        return card.member_id
    if resolution.points:
        raise Unprocessable("LPS has no transfer for this line: name the member's card",
                            {"card_no": "is required: LPS has no transfer naming the member"})
    return None


def _finish_open_transfer(db, programme, mismatch, transfer, reason, now) -> tuple[str | None, int | None]:
    """Finish a transfer LPS still holds open as the statement shows it."""
    if transfer is None or transfer.status not in OPEN_STATUSES:
        return None, None
    transfer.attempts += 1
    transfer.updated_at = now
    if mismatch.problem == MISSING_AT_PARTNER:
        services.fail_transfer(db, transfer, f"cancelled by reconciliation: {reason}", now)
        return CANCELLED, transfer.reversal_entry_id
    services.complete_transfer(db, programme, transfer, None, now)
    return SETTLED, transfer.entry_id


def _adjust(db, programme, mismatch, member_id, resolution, now) -> int:
    account_id = ledger.get_or_create_account(db, POINTS, member_id=member_id)
    ledger.lock_account(db, account_id)
    key = adjustment_key(mismatch)
    fingerprint = ledger.fingerprint_of({"mismatch": mismatch.id, "member_id": member_id,
                                         "points": resolution.points})
    note = (f"exchange reconciliation with {mismatch.partner}: {mismatch.problem} {mismatch.direction} "
            f"{mismatch.reference}: {resolution.reason}")[:500]
    if resolution.points > 0:
        return ledger.credit(db, account_id, resolution.points, kind=EXCHANGE_ADJUSTMENT, business_key=key,
                             fingerprint=fingerprint, occurred_at=now, expires_at=programme.expiry.lot_expires_at(now),
                             note=note).entry_id
    try:
        return ledger.debit(db, account_id, -resolution.points, kind=EXCHANGE_ADJUSTMENT, business_key=key,
                            fingerprint=fingerprint, occurred_at=now, note=note, now=now).entry_id
    except InsufficientBalance:
        balance = ledger.balance_of(db, account_id)
        raise InsufficientBalance(f"the member has {balance} points, fewer than {-resolution.points}",
                                  {"points": f"the member has only {balance} points"}) from None


def record_run(db, partner, period_start, period_end, found, *, actor, address=None):
    """Audit a reconciliation run from a screen or the API: who compared which period, and what
    was found."""
    audit.record(db, actor=actor, action=RECONCILE_ACTION, target=("exchange", partner),
                 after={"from": period_start, "to": period_end, "mismatches": len(found),
                        "open": sum(1 for row in found if row.status == MISMATCH_OPEN)}, address=address)

