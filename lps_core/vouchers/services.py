"""Issuing vouchers, voiding them, and spending one as a settlement's tender.

A voucher is spent whole: a voucher tender pays at most its face value, and what the bill leaves
of the face value is not given back. Spending is one conditional UPDATE (status issued -> redeemed,
with the settlement's id) inside the settlement's transaction, so of two settlements racing for one
voucher exactly one takes it; the other finds no issued voucher and is refused with 422, and the
whole of that settlement rolls back. A refund gives the voucher back (status issued again) once the
whole of its tender has been refunded; a partial refund keeps it spent.

Whether the part of a bill paid with vouchers earns points is the setting
`lps.vouchers.earn_points` (false by default: a voucher is not money the member spent).
"""
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, update

from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet
from lps_core.settings import settings_of
from lps_core.timeutil import as_utc, utcnow
from lps_core.vouchers.models import ISSUED, REDEEMED, VOID, Voucher

# Letters and digits that cannot be mistaken for one another on a printed slip (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_PREFIX = "V"
CODE_RANDOM_CHARACTERS = 12  # about 59 bits: a voucher is a bearer instrument, so its code is not guessable
MAX_CODE_LENGTH = 32
MAX_ISSUE_COUNT = 10_000


def vouchers_earn_points(settings) -> bool:
    """`lps.vouchers.earn_points` of the typed settings or of a mapping of ini keys: whether the part
    of a bill paid with vouchers earns points (false unless set)."""
    return settings_of(settings).vouchers_earn_points


def normalize_code(text: str) -> str:
    """A code as staff type it: case, spaces and dashes do not matter ("v2ab-cd34" names V2ABCD34)."""
    return "".join(text.split()).replace("-", "").upper()


def new_code() -> str:
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_RANDOM_CHARACTERS))


@dataclass(frozen=True)
class Issue:
    count: int
    face_value_cents: int
    valid_to: datetime
    valid_from: datetime | None = None
    outlet_code: str | None = None  # None: programme-wide


def issue_vouchers(db, issue: Issue, *, now=None) -> list[Voucher]:
    """Issue `count` vouchers of one face value and validity; their codes are new and random."""
    now = now or utcnow()
    valid_from = as_utc(issue.valid_from) if issue.valid_from is not None else now
    valid_to = as_utc(issue.valid_to)
    if not 1 <= issue.count <= MAX_ISSUE_COUNT:
        raise Unprocessable(f"count must be from 1 to {MAX_ISSUE_COUNT}", {"count": f"must be from 1 to {MAX_ISSUE_COUNT}"})
    if issue.face_value_cents <= 0:
        raise Unprocessable("a voucher's value must be greater than 0", {"value": "must be greater than 0"})
    if valid_to <= now:
        raise Unprocessable("valid_to must lie in the future", {"valid_to": "must lie in the future"})
    if valid_to <= valid_from:
        raise Unprocessable("valid_to must come after valid_from", {"valid_to": "must come after valid_from"})
    outlet_id = None
    if issue.outlet_code is not None:
        outlet_id = db.scalar(select(Outlet.id).where(Outlet.code == issue.outlet_code))
        if outlet_id is None:
            raise NotFound(f"outlet {issue.outlet_code!r} does not exist", {"outlet": "no such outlet"})
    codes = set()
    while len(codes) < issue.count:
        codes.add(new_code())
    rows = [{"code": code, "face_value_cents": issue.face_value_cents, "valid_from": valid_from, "valid_to": valid_to,
             "issued_at": now, "outlet_id": outlet_id, "status": ISSUED} for code in sorted(codes)]
    db.execute(insert(Voucher), rows)
    return list(db.scalars(select(Voucher).where(Voucher.code.in_(codes)).order_by(Voucher.code)))


def _visible_to(outlet_id):
    """Vouchers an outlet may see, void and take: its own and the programme-wide ones."""
    return or_(Voucher.outlet_id == outlet_id, Voucher.outlet_id.is_(None))


def find_voucher(db, outlet_id, code, *, lock=False) -> Voucher:
    """The voucher `code` as the outlet sees it; another outlet's voucher answers like an unknown one."""
    query = select(Voucher).where(Voucher.code == normalize_code(code), _visible_to(outlet_id))
    voucher = db.scalar(query.with_for_update() if lock else query)
    if voucher is None:
        raise NotFound(f"no voucher {code} at this outlet", {"code": "no such voucher"})
    return voucher


def void_voucher(db, outlet_id, code, reason=None) -> tuple[Voucher, bool]:
    """Void an issued voucher, so that no till takes it. Returns (voucher, replayed): voiding a void
    voucher again changes nothing. A redeemed voucher cannot be voided (409): refund its settlement."""
    voucher = find_voucher(db, outlet_id, code, lock=True)
    if voucher.status == VOID:
        return voucher, True
    if voucher.status == REDEEMED:
        raise Conflict(f"voucher {voucher.code} was redeemed and cannot be voided; refund its settlement instead",
                       {"code": "already redeemed"})
    voucher.status, voucher.voided_at, voucher.void_reason = VOID, utcnow(), reason
    db.flush()
    return voucher, False


def voucher_status(voucher: Voucher, at: datetime) -> str:
    """issued, redeemed or void, and `expired` for an issued voucher past its validity at `at`."""
    if voucher.status == ISSUED and as_utc(voucher.valid_to) <= at:
        return "expired"
    return voucher.status


# -- the voucher tender --------------------------------------------------------------------------

def check_voucher_tender(db, outlet_id, reference, amount_cents, at, field) -> Voucher:
    """The voucher a tender names, if the till may take it for `amount_cents` at `at`: known to the
    outlet, issued (not redeemed, not void), within its validity, and worth at least the amount.
    Anything else is refused with 422 naming `{field}.reference` (or `.amount`)."""
    if reference is None:
        raise Unprocessable("a voucher tender must name its voucher", {f"{field}.reference": "is required for a "
                                                                                              "voucher tender"})
    code = normalize_code(reference)
    voucher = db.scalar(select(Voucher).where(Voucher.code == code, _visible_to(outlet_id))) \
        if len(code) <= MAX_CODE_LENGTH else None
    if voucher is None:
        raise Unprocessable(f"voucher {reference} is not known", {f"{field}.reference": "no such voucher"})
    if voucher.status == REDEEMED:
        raise Unprocessable(f"voucher {voucher.code} was already redeemed", {f"{field}.reference": "already redeemed"})
    if voucher.status == VOID:
        raise Unprocessable(f"voucher {voucher.code} is void", {f"{field}.reference": "this voucher is void"})
    if at < as_utc(voucher.valid_from):
        raise Unprocessable(f"voucher {voucher.code} is not valid before {voucher.valid_from.isoformat()}",
                            {f"{field}.reference": "not valid yet"})
    if at >= as_utc(voucher.valid_to):
        raise Unprocessable(f"voucher {voucher.code} expired", {f"{field}.reference": "this voucher has expired"})
    if amount_cents > voucher.face_value_cents:
        raise Unprocessable(f"voucher {voucher.code} is worth {format_cents(voucher.face_value_cents)}",
                            {f"{field}.amount": f"at most {format_cents(voucher.face_value_cents)}, the "
                                                f"voucher's face value"})
    return voucher


def redeem_voucher(db, voucher_id, settlement_id, field) -> None:
    """Spend the voucher for the settlement: one conditional UPDATE, so a voucher another
    transaction spent first (it waits for that transaction on PostgreSQL) is refused with 422."""
    taken = db.execute(update(Voucher).where(Voucher.id == voucher_id, Voucher.status == ISSUED)
                       .values(status=REDEEMED, redeemed_at=utcnow(), settlement_id=settlement_id)
                       .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise Unprocessable("the voucher was redeemed by another settlement just now",
                            {f"{field}.reference": "already redeemed"})


def reinstate_voucher(db, settlement_id, reference) -> bool:
    """Give the voucher a settlement spent back (status issued), when its tender has been refunded
    in full. True if a voucher went back."""
    if reference is None:
        return False
    return db.execute(update(Voucher).where(Voucher.code == normalize_code(reference),
                                            Voucher.settlement_id == settlement_id, Voucher.status == REDEEMED)
                      .values(status=ISSUED, redeemed_at=None, settlement_id=None)
                      .execution_options(synchronize_session=False)).rowcount == 1


# -- the command line ----------------------------------------------------------------------------

def issue_from_command_line(db, settings, *, count, value, valid_to, valid_from=None, outlet_code=None) -> list[str]:
    """`lps vouchers issue`: the value and dates as typed, checked by the API's own schema. A date
    alone means its whole day in lps.timezone (valid_from from its start, valid_to through its end)."""
    from lps_core.vouchers.schemas import VoucherIssueIn
    from lps_core.validation import validate

    zone = settings_of(settings).timezone
    body = {"value": value, "valid_to": _moment(valid_to, zone, end_of_day=True)}
    if valid_from is not None:
        body["valid_from"] = _moment(valid_from, zone, end_of_day=False)
    checked = validate(VoucherIssueIn, body)
    issue = Issue(count, checked.value, checked.valid_to, checked.valid_from, outlet_code)
    return [voucher.code for voucher in issue_vouchers(db, issue)]


def _moment(text, zone, *, end_of_day) -> str:
    """A date (YYYY-MM-DD) as the start of that day, or of the next one, in `zone`; anything else as typed."""
    from datetime import date, timedelta

    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        return text
    if end_of_day:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()
