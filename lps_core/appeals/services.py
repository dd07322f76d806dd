"""Points appeals (积分申诉): filing, searching, approving and rejecting.

A member (through the portal), staff on a member's behalf (the member page) or a partner system
(the API) files an appeal: "bill X at outlet Y on date Z is missing or wrong". Staff approve it or
reject it with a reason, and either way the member is told by message (the outbox, written in the
same transaction).

Approving never posts points beside the earn path:
- a bill the till has not posted is posted by `earn_points_for_bill` under its own outlet and
  number. The bill's row claims (outlet, bill no.), so the till sending it later replays or is
  refused (409, "already posted with other content"): the bill earns once, whoever comes first;
- a bill the till has posted already is linked to the appeal. If the member paid more than the till
  said, the missing points (the bill's points at the right amount, less what it has earned so far)
  are credited as a `correction` entry linked to the bill, under the business key
  `appeal:<id>:correction`, so an approval replayed or retried credits them once.

Every action is recorded in the audit log by the service, with the actor the caller names.
"""
import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from lps_core.appeals.models import (
    APPROVED,
    BY_MEMBER,
    CORRECTED,
    LINKED,
    OPEN,
    OPENERS,
    POSTED,
    REJECTED,
    Appeal,
)
from lps_core.audit.services import Actor, record
from lps_core.cards.models import Card
from lps_core.components import ISettings
from lps_core.earning.models import Bill
from lps_core.earning.preview import preview_bill
from lps_core.earning.services import EarnRequest, OutletContext, earn_points_for_bill
from lps_core.errors import ConfigurationError, Conflict, NotFound, Unprocessable, ValidationFailed
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, LedgerEntry
from lps_core.members.activity import record_activity
from lps_core.members.models import Member
from lps_core.messages.outbox import enqueue
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet
from lps_core.partners.standing import require_posting
from lps_core.settings import MessageSettings
from lps_core.timeutil import as_utc, utcnow

CORRECTION = "adjustment"  # the ledger entry kind of a correction's credit: a staff adjustment linked to the bill
MESSAGE_EVENT = "appeal_resolved"
INT32_MAX = 2**31 - 1  # the id column's range
MAX_NOTE = 500
MAX_REASON = 500
USABLE_CARD_STATUSES = ("active",)
# What a receipt photo may be, told by its first bytes (the file name and the browser's word are
# not trusted): JPEG, PNG, WebP, HEIC.
RECEIPT_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic"}


@dataclass(frozen=True)
class AppealSettings:
    """lps.appeals.*: the SLA (hours from filing to a due answer), where receipt photos are kept
    (None: in the database) and how large one may be."""

    sla_hours: int = 72
    receipt_dir: str | None = None
    receipt_max_bytes: int = 5 * 1024 * 1024

    @classmethod
    def from_mapping(cls, settings) -> "AppealSettings":
        settings = settings or {}

        def whole(key, default, minimum, maximum):
            raw = settings.get(key)
            if raw in (None, ""):
                return default
            try:
                value = int(str(raw).strip())
            except ValueError:
                value = None
            if value is None or not minimum <= value <= maximum:
                raise ConfigurationError(f"{key} must be a whole number from {minimum} to {maximum}, not {raw!r}")
            return value

        return cls(whole("lps.appeals.sla_hours", 72, 1, 24 * 90),
                   (str(settings.get("lps.appeals.receipt_dir") or "").strip() or None),
                   whole("lps.appeals.receipt_max_bytes", 5 * 1024 * 1024, 1024, 50 * 1024 * 1024))


@dataclass(frozen=True)
class Receipt:
    """A receipt photo as sent: its bytes (the type is read from them)."""

    content: bytes
    filename: str | None = None


@dataclass(frozen=True)
class Filing:
    """What an appeal says. `card_no` is optional: without it the member's active card is used."""

    member_id: int
    outlet_code: str
    bill_no: str
    bill_date: date
    amount_cents: int
    note: str | None = None
    card_no: str | None = None
    receipt: Receipt | None = None
    request_key: str | None = None


@dataclass(frozen=True)
class Search:
    bill_no: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    member: str | None = None  # the member's number (id) or a card number
    outlet_code: str | None = None
    status: str | None = None
    overdue: bool = False


def file_appeal(db, programme, settings: AppealSettings, filing: Filing, *, opened_by, actor: Actor,
                operator_id=None, outlet_ids=None, address=None) -> tuple[Appeal, bool]:
    """File an appeal; returns (appeal, replayed). `outlet_ids` (None: every outlet) is the scope of
    staff filing on a member's behalf: another outlet's bill is 404, as if it did not exist.
    A retry with the same `request_key` returns the first appeal."""
    if opened_by not in OPENERS:
        raise ValueError(f"opened_by must be one of {OPENERS}")
    if filing.request_key:
        existing = db.scalar(select(Appeal).where(Appeal.request_key == filing.request_key))
        if existing is not None:
            if existing.member_id != filing.member_id or existing.bill_no != filing.bill_no:
                raise Conflict("this request key was used for another appeal",
                               {"request_key": "already used for another appeal"})
            return existing, True
    member = db.get(Member, filing.member_id)
    if member is None:
        raise NotFound(f"member {filing.member_id} does not exist", {"member": "no such member"})
    if member.status != "active":
        raise Unprocessable(f"member {member.id} is {member.status}", {"member": "is not an active member"})
    outlet = db.scalar(select(Outlet).where(Outlet.code == filing.outlet_code, Outlet.active.is_(True)))
    if outlet is None or (outlet_ids is not None and outlet.id not in outlet_ids):
        raise Unprocessable(f"outlet {filing.outlet_code!r} does not exist", {"outlet": "no such outlet"})
    now = utcnow()
    today = now.astimezone(programme.timezone).date()
    if filing.bill_date > today:
        raise Unprocessable("the bill's date is in the future", {"bill_date": "must not be in the future"})
    earliest = programme.limits.earliest(now).astimezone(programme.timezone).date()
    if filing.bill_date < earliest:
        raise Unprocessable(f"bills before {earliest.isoformat()} can no longer be posted",
                            {"bill_date": f"must be on or after {earliest.isoformat()}"})
    programme.limits.check_bill_amount(filing.amount_cents, outlet.code, field="amount")
    card = _card_of(db, member.id, filing.card_no)
    pending = db.scalar(select(Appeal.id).where(Appeal.outlet_id == outlet.id, Appeal.bill_no == filing.bill_no,
                                                Appeal.status == OPEN))
    if pending is not None:
        raise Conflict(f"appeal {pending} about bill {filing.bill_no} is still open",
                       {"bill_no": "an appeal about this bill is already open"})
    receipt_type = receipt_bytes = receipt_file = None
    if filing.receipt is not None:
        receipt_type = receipt_type_of(filing.receipt.content, settings)
        if settings.receipt_dir:
            receipt_file = _store_receipt(settings.receipt_dir, filing.receipt.content, receipt_type)
        else:
            receipt_bytes = filing.receipt.content
    appeal = Appeal(member_id=member.id, card_id=card.id if card else None, outlet_id=outlet.id,
                    bill_no=filing.bill_no, bill_date=filing.bill_date, amount_cents=filing.amount_cents,
                    note=filing.note or None, receipt_type=receipt_type, receipt=receipt_bytes,
                    receipt_file=receipt_file, status=OPEN, opened_by=opened_by,
                    opened_by_operator_id=operator_id, request_key=filing.request_key or None, created_at=now,
                    due_at=now + timedelta(hours=settings.sla_hours))
    db.add(appeal)
    db.flush()
    record(db, actor=actor, action="appeal.file", target=("appeal", appeal.id), after={
        "member_id": member.id, "outlet": outlet.code, "bill_no": appeal.bill_no,
        "bill_date": appeal.bill_date, "amount": format_cents(appeal.amount_cents), "opened_by": opened_by,
        "receipt": receipt_type}, address=address, outlet_id=outlet.id)
    return appeal, False


def member_actor(member_id) -> Actor:
    """The audit log's name for a member acting in the portal (the log knows operators, API keys and
    LPS itself: the portal is LPS acting for the member it names)."""
    return Actor("system", f"portal, member {member_id}")


def file_by_member(db, programme, settings: AppealSettings, filing: Filing, *, address=None) -> tuple[Appeal, bool]:
    """The members' portal: the signed-in member (`filing.member_id`) files an appeal about a bill
    of any outlet, with an optional receipt photo; returns (appeal, replayed). The portal shows the
    member their appeals with member_appeals() and one with get_appeal(..., member_id=...)."""
    return file_appeal(db, programme, settings, filing, opened_by=BY_MEMBER, actor=member_actor(filing.member_id),
                       address=address)


def receipt_type_of(content: bytes, settings: AppealSettings) -> str:
    """The receipt photo's type, read from its first bytes; 4xx naming `receipt` when it is empty,
    too large or not a photo."""
    if not content:
        raise ValidationFailed("the receipt photo is empty", {"receipt": "is empty"})
    if len(content) > settings.receipt_max_bytes:
        raise ValidationFailed("the receipt photo is too large",
                               {"receipt": f"must be at most {settings.receipt_max_bytes // 1024} KiB"})
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[4:8] == b"ftyp" and content[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic"
    raise ValidationFailed("the receipt must be a photo", {"receipt": "must be a JPEG, PNG, WebP or HEIC photo"})


def _store_receipt(folder, content, receipt_type) -> str:
    """Write the photo under `folder` with a new random name (nothing of the sender's reaches the
    file system); returns that name."""
    name = uuid.uuid4().hex + RECEIPT_TYPES[receipt_type]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "xb") as out:
        out.write(content)
    return name


def receipt_of(appeal: Appeal, settings: AppealSettings) -> tuple[bytes, str] | None:
    """The receipt photo's bytes and type, wherever it is kept; None without one."""
    if appeal.receipt_type is None:
        return None
    if appeal.receipt_file:
        if not settings.receipt_dir:
            return None
        with open(os.path.join(settings.receipt_dir, os.path.basename(appeal.receipt_file)), "rb") as photo:
            return photo.read(), appeal.receipt_type
    return appeal.receipt, appeal.receipt_type


def _card_of(db, member_id, card_no) -> Card | None:
    """The card an appeal names (it must be the member's), or the member's newest active card."""
    if card_no:
        card = db.scalar(select(Card).where(Card.card_no == card_no))
        if card is None or card.member_id != member_id:
            raise Unprocessable(f"card {card_no} is not the member's", {"card_no": "not a card of this member"})
        return card
    return db.scalar(select(Card).where(Card.member_id == member_id, Card.status.in_(USABLE_CARD_STATUSES))
                     .order_by(Card.id.desc()).limit(1))


def get_appeal(db, appeal_id, outlet_ids=None, *, member_id=None, lock=False) -> Appeal:
    """The appeal; NotFound when it does not exist, or is outside `outlet_ids` (None: every
    outlet) or not `member_id`'s (the portal asks for its member's appeals only)."""
    query = select(Appeal).where(Appeal.id == appeal_id)
    if lock:
        query = query.with_for_update()
    appeal = db.scalar(query)
    if appeal is None or (outlet_ids is not None and appeal.outlet_id not in outlet_ids) \
            or (member_id is not None and appeal.member_id != member_id):
        raise NotFound(f"appeal {appeal_id} does not exist", {"id": "no such appeal"})
    return appeal


def search_query(search: Search, outlet_ids=None, *, now=None):
    """A select of appeals (with their outlet's code) matching `search`, in the caller's scope."""
    query = select(Appeal, Outlet.code.label("outlet_code")).join(Outlet, Outlet.id == Appeal.outlet_id)
    if outlet_ids is not None:
        query = query.where(Appeal.outlet_id.in_(sorted(outlet_ids)))
    if search.bill_no:
        query = query.where(Appeal.bill_no == search.bill_no)
    if search.date_from:
        query = query.where(Appeal.bill_date >= search.date_from)
    if search.date_to:
        query = query.where(Appeal.bill_date <= search.date_to)
    if search.outlet_code:
        query = query.where(Outlet.code == search.outlet_code)
    if search.status:
        query = query.where(Appeal.status == search.status)
    if search.overdue:
        query = query.where(Appeal.status == OPEN, Appeal.due_at < (now or utcnow()))
    if search.member:
        holders = select(Card.member_id).where(Card.card_no == search.member)
        if search.member.isdigit() and int(search.member) <= INT32_MAX:  # a member's number, or a card's
            query = query.where(or_(Appeal.member_id == int(search.member), Appeal.member_id.in_(holders)))
        else:
            query = query.where(Appeal.member_id.in_(holders))
    return query


def search_appeals(db, search: Search, outlet_ids=None, *, limit=50, offset=0) -> tuple[list, int]:
    """(appeals with their outlet code, total), the oldest due first."""
    query = search_query(search, outlet_ids)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.execute(query.order_by(Appeal.due_at, Appeal.id).limit(limit).offset(offset)).all()
    return rows, total


def member_appeals(db, member_id) -> list:
    """A member's appeals, the newest first, with their outlet's code (the member page, the portal)."""
    return db.execute(select(Appeal, Outlet.code.label("outlet_code")).join(Outlet, Outlet.id == Appeal.outlet_id)
                      .where(Appeal.member_id == member_id).order_by(Appeal.id.desc())).all()


@dataclass(frozen=True)
class Approval:
    """What staff confirm when approving: the bill's time and amount as the outlet's records show
    them (the member's claim when left out)."""

    occurred_at: datetime | None = None
    amount_cents: int | None = None
    note: str | None = None


def approve_appeal(db, plugins, programme, appeal_id, approval: Approval, *, actor: Actor, operator_id=None,
                   outlet_ids=None, address=None) -> tuple[Appeal, bool]:
    """Approve an open appeal (see the module's docstring); returns (appeal, replayed). Approving
    an approved appeal again replays it; a rejected one is a Conflict."""
    appeal = get_appeal(db, appeal_id, outlet_ids, lock=True)
    if appeal.status == APPROVED:
        return appeal, True
    if appeal.status == REJECTED:
        raise Conflict(f"appeal {appeal.id} was rejected", {"status": "the appeal was already rejected"})
    outlet = db.get(Outlet, appeal.outlet_id)
    amount = approval.amount_cents or appeal.amount_cents
    if approval.amount_cents:
        programme.limits.check_bill_amount(amount, outlet.code, field="amount")
    occurred_at = approval.occurred_at or _midday(appeal.bill_date, programme.timezone)
    if as_utc(occurred_at).astimezone(programme.timezone).date() != appeal.bill_date:
        raise Unprocessable("the bill's time must be on the bill's date",
                               {"occurred_at": f"must be on {appeal.bill_date.isoformat()}"})
    bill = _bill(db, outlet.id, appeal.bill_no)
    if bill is None:
        require_posting(outlet.code, outlet.property.status, outlet.property.code)  # 422 at a suspended partner
        card = db.get(Card, appeal.card_id) if appeal.card_id else _card_of(db, appeal.member_id, None)
        if card is None:
            raise Unprocessable(f"member {appeal.member_id} holds no active card",
                                {"card_no": "the member holds no active card to post the bill to"})
        try:
            earned = earn_points_for_bill(db, plugins, programme, OutletContext(outlet.id, outlet.code),
                                          EarnRequest(card.card_no, appeal.bill_no, amount, occurred_at, ()))
        except Conflict:
            # The till posted the bill in the meantime, with its own content: link to that.
            bill = _bill(db, outlet.id, appeal.bill_no)
            if bill is None:
                raise
        else:
            bill = db.get(Bill, earned.id)
            if earned.replayed:  # the till posted this very bill in the meantime
                _settle(appeal, LINKED, bill, _earn_entry(db, bill), None, 0, operator_id)
            else:
                _settle(appeal, POSTED, bill, _earn_entry(db, bill), None, earned.points, operator_id)
    if appeal.status == OPEN:
        _link_or_correct(db, plugins, programme, appeal, bill, outlet, amount, operator_id)
    appeal.reason = approval.note or None
    db.flush()
    _tell_member(db, appeal, outlet)
    record(db, actor=actor, action="appeal.approve", target=("appeal", appeal.id), before={"status": OPEN}, after={
        "status": APPROVED, "resolution": appeal.resolution, "bill_id": appeal.bill_id, "points": appeal.points,
        "amount": format_cents(amount), "note": appeal.reason}, address=address, outlet_id=outlet.id)
    return appeal, False


def _link_or_correct(db, plugins, programme, appeal, bill, outlet, amount, operator_id):
    """The bill is posted already: link it, and credit what it is missing when the member paid more."""
    if bill.member_id != appeal.member_id:
        raise Conflict(f"bill {bill.bill_no} was posted to another member's card",
                       {"bill_no": "was posted to another member's card"})
    earn_entry = _earn_entry(db, bill)
    occurred_at = as_utc(bill.occurred_at)  # SQLite gives it back without its zone
    if amount <= bill.amount_cents:
        _settle(appeal, LINKED, bill, earn_entry, None, 0, operator_id)
        return
    require_posting(outlet.code, outlet.property.status, outlet.property.code)  # a correction is a posting
    card = db.get(Card, bill.card_id)
    due = preview_bill(db, plugins, programme, outlet.code,
                       EarnRequest(card.card_no, bill.bill_no, amount, occurred_at, ()),
                       card_no=card.card_no).points
    corrected = db.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                          .where(LedgerEntry.bill_id == bill.id, LedgerEntry.kind == CORRECTION))
    missing = due - bill.points - int(corrected)
    expires_at = programme.expiry.lot_expires_at(occurred_at)
    if missing <= 0 or expires_at <= utcnow():
        _settle(appeal, LINKED, bill, earn_entry, None, 0, operator_id)
        return
    account_id = ledger.get_or_create_account(db, POINTS, member_id=bill.member_id)
    key = f"appeal:{appeal.id}:correction"
    description = (f"appeal {appeal.id}: bill {bill.bill_no} was posted at {format_cents(bill.amount_cents)}, "
                   f"paid {format_cents(amount)}")
    posting = ledger.credit(db, account_id, missing, kind=CORRECTION, business_key=key,
                            fingerprint=ledger.fingerprint_of({"bill_id": bill.id, "amount": amount,
                                                               "points": missing}),
                            occurred_at=occurred_at, expires_at=expires_at, outlet_id=bill.outlet_id,
                            bill_id=bill.id, note=description[:500],
                            breakdown=[{"step": "correction", "rule": "appeal", "points": missing,
                                        "description": description}])
    if not posting.replayed:
        record_activity(db, bill.member_id, occurred_at, points=missing,
                        spend_cents=amount - bill.amount_cents)
    _settle(appeal, CORRECTED, bill, earn_entry, posting.entry_id, missing, operator_id)


def reject_appeal(db, appeal_id, reason, *, actor: Actor, operator_id=None, outlet_ids=None,
                  address=None) -> tuple[Appeal, bool]:
    """Reject an open appeal with a reason told to the member; returns (appeal, replayed)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("give the reason told to the member", {"reason": "is required"})
    appeal = get_appeal(db, appeal_id, outlet_ids, lock=True)
    if appeal.status == REJECTED and appeal.reason == reason[:MAX_REASON]:
        return appeal, True
    if appeal.status != OPEN:
        raise Conflict(f"appeal {appeal.id} is {appeal.status}", {"status": f"the appeal is already {appeal.status}"})
    appeal.status, appeal.reason = REJECTED, reason[:MAX_REASON]
    appeal.resolved_at, appeal.resolved_by_operator_id = utcnow(), operator_id
    db.flush()
    outlet = db.get(Outlet, appeal.outlet_id)
    _tell_member(db, appeal, outlet)
    record(db, actor=actor, action="appeal.reject", target=("appeal", appeal.id), before={"status": OPEN},
           after={"status": REJECTED, "reason": appeal.reason}, address=address, outlet_id=appeal.outlet_id)
    return appeal, False


def is_overdue(appeal: Appeal, now=None) -> bool:
    return appeal.status == OPEN and as_utc(appeal.due_at) < (now or utcnow())


def _settle(appeal, resolution, bill, entry_id, correction_entry_id, points, operator_id):
    appeal.status, appeal.resolution = APPROVED, resolution
    appeal.bill_id, appeal.entry_id, appeal.correction_entry_id, appeal.points = (bill.id, entry_id,
                                                                                  correction_entry_id, points)
    appeal.resolved_at, appeal.resolved_by_operator_id = utcnow(), operator_id


# What the member is told, in the language their message is written in (the outbox's templates
# give the frame: "your points appeal {appeal_no} was {outcome}. {answer}").
OUTCOMES = {
    "en": {APPROVED: "approved", REJECTED: "rejected"},
    "zh_CN": {APPROVED: "已批准", REJECTED: "未通过"},
}
ANSWERS = {
    "en": {POSTED: "Bill {bill_no} of {bill_date} at {outlet} is posted: {points} points.",
           LINKED: "Bill {bill_no} of {bill_date} at {outlet} had already been posted to your account.",
           CORRECTED: "Bill {bill_no} of {bill_date} at {outlet} was posted for less than you paid: "
                      "{points} missing points are credited.",
           REJECTED: "Reason: {reason}"},
    "zh_CN": {POSTED: "{bill_date} 在 {outlet} 的账单 {bill_no} 已入账：{points} 积分。",
              LINKED: "{bill_date} 在 {outlet} 的账单 {bill_no} 此前已计入您的账户。",
              CORRECTED: "{bill_date} 在 {outlet} 的账单 {bill_no} 入账金额少于实付金额，已补记 {points} 积分。",
              REJECTED: "原因：{reason}"},
}


def _tell_member(db, appeal, outlet):
    """Queue the member's "appeal resolved" message in this transaction: a service message (sent
    without marketing consent), once per appeal whatever retries the request."""
    language = _message_language(db)
    texts = ANSWERS.get(language, ANSWERS["en"])
    answer = texts[REJECTED if appeal.status == REJECTED else appeal.resolution].format(
        bill_no=appeal.bill_no, bill_date=appeal.bill_date.isoformat(), outlet=outlet.name,
        points=appeal.points or 0, reason=appeal.reason or "")
    enqueue(db, MESSAGE_EVENT, member_id=appeal.member_id, key=f"appeal:{appeal.id}", outlet_id=appeal.outlet_id,
            language=language, context={"appeal_no": appeal_number(appeal),
                                        "outcome": OUTCOMES.get(language, OUTCOMES["en"])[appeal.status],
                                        "answer": answer})


def _message_language(db) -> str:
    """The language members' messages are written in (lps.messages.default_language)."""
    request = db.info.get("request")
    registry = request.registry if request is not None else db.info.get("registry")
    settings = registry.queryUtility(ISettings) if registry is not None else None
    return settings.messages.default_language if settings is not None else MessageSettings().default_language


def appeal_number(appeal) -> str:
    """How the member and staff name an appeal: A-17."""
    return f"A-{appeal.id}"


def _bill(db, outlet_id, bill_no) -> Bill | None:
    return db.scalar(select(Bill).where(Bill.outlet_id == outlet_id, Bill.bill_no == bill_no).with_for_update())


def _earn_entry(db, bill) -> int | None:
    return db.scalar(select(LedgerEntry.id).where(LedgerEntry.business_key == f"earn:{bill.outlet_id}:{bill.bill_no}"))


def _midday(day: date, tz) -> datetime:
    """Noon of the bill's date where the programme is, or now if that is still to come today."""
    return min(datetime.combine(day, time(12), tzinfo=tz), utcnow())
