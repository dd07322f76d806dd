"""Coupon types, issuing coupons, and the rules a coupon is taken by.

Issuing is set-based and idempotent: one INSERT ... ON CONFLICT DO NOTHING for all the members,
keyed by (type, member, source, source_ref), so a campaign, a segment's send or the birthday job
that runs again issues nothing twice, and two runs at once issue once.

Using a coupon is one conditional UPDATE (uses_left - 1 where uses_left > 0, status issued) inside
the caller's transaction, so of two tills racing for a coupon's last use exactly one takes it; the
other is refused with 422 and its whole settlement rolls back.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from lps_core.coupons import codes
from lps_core.coupons.models import AMOUNT, ISSUED, ITEM, MULTIPLIER, PERCENT, RETURN, RETURN_UNEXPIRED, SOURCES, \
    USED, VOID, Coupon, CouponType
from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.members.models import Member
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet
from lps_core.timeutil import as_utc, isoformat, utcnow

MAX_MEMBERS_PER_ISSUE = 100_000
CHUNK = 1000  # members per INSERT: well under both databases' limit of bound parameters


@dataclass(frozen=True)
class TypeSpec:
    """A coupon type as the screen and the API give it (validated by the schemas)."""

    code: str
    name: str
    kind: str
    value_cents: int | None = None
    percent: Decimal | None = None
    sku: str | None = None
    multiplier: Decimal | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    valid_days: int | None = None
    min_spend_cents: int = 0
    outlets: tuple[str, ...] = ()
    uses: int = 1
    active: bool = True
    on_refund: str = RETURN


def save_type(db, spec: TypeSpec, *, now=None) -> tuple[CouponType, bool]:
    """Create the type named by `spec.code`, or change it (coupons issued before keep their own
    validity and uses). Returns the type and whether it was created."""
    _check_spec(db, spec)
    values = {"name": spec.name, "kind": spec.kind, "value_cents": spec.value_cents, "percent": spec.percent,
              "sku": spec.sku, "multiplier": spec.multiplier, "valid_from": spec.valid_from,
              "valid_to": spec.valid_to, "valid_days": spec.valid_days, "min_spend_cents": spec.min_spend_cents,
              "outlets": sorted(spec.outlets), "uses": spec.uses, "active": spec.active,
              "on_refund": spec.on_refund}
    coupon_type = db.scalar(select(CouponType).where(CouponType.code == spec.code).with_for_update())
    if coupon_type is None:
        coupon_type = CouponType(code=spec.code, created_at=now or utcnow(), **values)
        db.add(coupon_type)
        db.flush()
        return coupon_type, True
    for name, value in values.items():
        setattr(coupon_type, name, value)
    db.flush()
    return coupon_type, False


def _check_spec(db, spec):
    needs = {AMOUNT: ("value_cents",), ITEM: ("sku", "value_cents"), PERCENT: ("percent",),
             MULTIPLIER: ("multiplier",)}[spec.kind]
    for name in ("value_cents", "percent", "sku", "multiplier"):
        given = getattr(spec, name) is not None
        if given != (name in needs):
            field = "value" if name == "value_cents" else name
            raise Unprocessable(f"a coupon of kind {spec.kind} {'needs' if not given else 'takes no'} {field}",
                                {field: f"{'required' if not given else 'not allowed'} for kind {spec.kind}"})
    if (spec.valid_days is None) == (spec.valid_to is None):
        raise Unprocessable("give either valid_days or valid_to", {"valid_days": "give either valid_days or valid_to"})
    if spec.valid_to is not None and spec.valid_from is not None and spec.valid_to < spec.valid_from:
        raise Unprocessable("valid_to comes before valid_from", {"valid_to": "must not come before valid_from"})
    if spec.outlets:
        known = set(db.scalars(select(Outlet.code).where(Outlet.code.in_(spec.outlets))))
        unknown = sorted(set(spec.outlets) - known)
        if unknown:
            raise Unprocessable(f"unknown outlets: {', '.join(unknown)}", {"outlets": f"no such outlet: {unknown[0]}"})


def find_type(db, code, *, field="coupon_type") -> CouponType:
    coupon_type = db.scalar(select(CouponType).where(CouponType.code == code))
    if coupon_type is None:
        raise NotFound(f"coupon type {code!r} does not exist", {field: "no such coupon type"})
    return coupon_type


def list_types(db) -> list[CouponType]:
    return list(db.scalars(select(CouponType).order_by(CouponType.code)))


def validity(coupon_type, now, tz) -> tuple[datetime, datetime]:
    """When a coupon issued at `now` is taken: fixed dates of the type (both days included, in the
    programme's time zone), or from `now` to the end of the last of `valid_days` days."""
    def midnight(day):
        return datetime.combine(day, time(), tzinfo=tz).astimezone(timezone.utc)

    if coupon_type.valid_days is not None:
        return now, midnight(now.astimezone(tz).date() + timedelta(days=coupon_type.valid_days))
    start = midnight(coupon_type.valid_from) if coupon_type.valid_from is not None else now
    return start, midnight(coupon_type.valid_to + timedelta(days=1))


def issue_coupons(db, coupon_type_code, member_ids, *, source, source_ref, now, tz=timezone.utc) -> list[Coupon]:
    """Issue one coupon of the type to each member, once per (type, member, source, source_ref):
    the members who already hold that coupon keep it and get no second one. Returns the coupons of
    these members under that key (the new ones and any issued before), in member order.

    Set-based: one INSERT ... ON CONFLICT DO NOTHING per thousand members, one SELECT to read them
    back. Unknown members are refused with 422 naming `member_ids`; an inactive or expired type too."""
    if source not in SOURCES:
        raise Unprocessable(f"source must be one of {', '.join(SOURCES)}", {"source": "unknown source"})
    source_ref = str(source_ref or "")
    member_ids = sorted(set(member_ids))
    if len(member_ids) > MAX_MEMBERS_PER_ISSUE:
        raise Unprocessable(f"at most {MAX_MEMBERS_PER_ISSUE} members per issue",
                            {"member_ids": f"at most {MAX_MEMBERS_PER_ISSUE}"})
    now = as_utc(now)
    coupon_type = find_type(db, coupon_type_code)
    if not coupon_type.active:
        raise Unprocessable(f"coupon type {coupon_type.code} is switched off", {"coupon_type": "switched off"})
    valid_from, valid_to = validity(coupon_type, now, tz)
    if valid_to <= now:
        raise Unprocessable(f"coupon type {coupon_type.code} is no longer valid", {"coupon_type": "validity over"})
    if not member_ids:
        return []
    for start in range(0, len(member_ids), CHUNK):
        chunk = member_ids[start:start + CHUNK]
        known = set(db.scalars(select(Member.id).where(Member.id.in_(chunk))))
        if len(known) != len(chunk):
            missing = sorted(set(chunk) - known)
            raise Unprocessable(f"member {missing[0]} does not exist", {"member_ids": f"no such member: {missing[0]}"})
        rows = [{"code": codes.new_code(), "coupon_type_id": coupon_type.id, "member_id": member_id,
                 "source": source, "source_ref": source_ref, "issued_at": now, "valid_from": valid_from,
                 "valid_to": valid_to, "uses_left": coupon_type.uses, "status": ISSUED} for member_id in chunk]
        insert_new(db, rows)
    return list(db.scalars(select(Coupon).where(
        Coupon.coupon_type_id == coupon_type.id, Coupon.source == source, Coupon.source_ref == source_ref,
        Coupon.member_id.in_(member_ids)).order_by(Coupon.member_id)))


def insert_new(db, rows):
    """Insert the rows whose issue key is new: one INSERT ... ON CONFLICT DO NOTHING. A code that
    collides with another coupon's (about one chance in 10^14 per pair) is drawn again for the rows
    that did not go in and whose key is not held yet."""
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[db.get_bind().dialect.name]
    keys = ["coupon_type_id", "member_id", "source", "source_ref"]
    columns = [Coupon.__table__.c[k] for k in keys]
    statement = dialect.insert(Coupon.__table__).on_conflict_do_nothing().returning(*columns)
    while rows:
        inserted = {tuple(row) for row in db.execute(statement, rows).all()}
        left = [row for row in rows if tuple(row[k] for k in keys) not in inserted]
        if not left:
            return
        held = {tuple(row) for row in db.execute(select(*columns).where(
            tuple_(*columns).in_([tuple(row[k] for k in keys) for row in left])))}
        rows = [{**row, "code": codes.new_code()} for row in left if tuple(row[k] for k in keys) not in held]


def issue_one(db, coupon_type_code, member_id, *, source, source_ref, now=None, tz=timezone.utc) -> Coupon:
    """One coupon to one member (the screen and the API), idempotent like issue_coupons."""
    return issue_coupons(db, coupon_type_code, [member_id], source=source, source_ref=source_ref,
                         now=now or utcnow(), tz=tz)[0]


def number_text(value: Decimal) -> str:
    """A percentage or multiplier as people write it: 10, 1.5 (not 1E+1 or 10.00)."""
    return format(value.normalize(), "f")


def coupon_status(coupon, now) -> str:
    if coupon.status == ISSUED and as_utc(coupon.valid_to) <= now:
        return "expired"
    if coupon.status == ISSUED and as_utc(coupon.valid_from) > now:
        return "not_yet_valid"
    return coupon.status


def valid_coupons_of(db, member_id, now, *, outlet_code=None) -> list[tuple[Coupon, CouponType]]:
    """The member's coupons that can be used now (at the outlet, when given), soonest to expire first:
    one statement, on the index (member_id, status)."""
    rows = db.execute(select(Coupon, CouponType).join(CouponType, CouponType.id == Coupon.coupon_type_id).where(
        Coupon.member_id == member_id, Coupon.status == ISSUED, Coupon.valid_from <= now, Coupon.valid_to > now,
        CouponType.active.is_(True)).order_by(Coupon.valid_to, Coupon.id)).all()
    return [(c, t) for c, t in rows if outlet_code is None or not t.outlets or outlet_code in t.outlets]


def coupons_of(db, member_id, *, limit=100) -> list[tuple[Coupon, CouponType]]:
    """All the member's coupons, newest first (the portal, the member's page)."""
    return db.execute(select(Coupon, CouponType).join(CouponType, CouponType.id == Coupon.coupon_type_id)
                      .where(Coupon.member_id == member_id).order_by(Coupon.issued_at.desc(), Coupon.id.desc())
                      .limit(limit)).all()


def find_coupon(db, code, *, field="code") -> tuple[Coupon, CouponType]:
    code = codes.normalize(code or "")
    if not codes.is_well_formed(code):
        raise Unprocessable(f"{code!r} is not a coupon code (mistyped?)", {field: "not a coupon code: mistyped?"})
    row = db.execute(select(Coupon, CouponType).join(CouponType, CouponType.id == Coupon.coupon_type_id)
                     .where(Coupon.code == code)).one_or_none()
    if row is None:
        raise NotFound(f"coupon {code} does not exist", {field: "no such coupon"})
    return row.Coupon, row.CouponType


def check_usable(coupon, coupon_type, *, member_id, outlet_code, spend_cents, at, field) -> None:
    """Refuse (422 naming `field` and saying why) a coupon this bill cannot use: another member's,
    used up or void, outside its validity, at an outlet it is not taken at, under its minimum spend."""
    def refuse(reason):
        raise Unprocessable(f"coupon {coupon.code}: {reason}", {field: reason})

    if coupon.member_id != member_id:
        refuse("this coupon belongs to another member")
    if coupon.status == VOID:
        refuse("this coupon is void")
    if coupon.status == USED or coupon.uses_left <= 0:
        refuse("this coupon is used up")
    if not coupon_type.active:
        refuse("this coupon's type is switched off")
    if at < as_utc(coupon.valid_from):
        refuse("this coupon is not valid yet")
    if at >= as_utc(coupon.valid_to):
        refuse("this coupon has expired")
    if coupon_type.outlets and outlet_code not in coupon_type.outlets:
        refuse(f"this coupon is not taken at outlet {outlet_code}")
    if spend_cents < coupon_type.min_spend_cents:
        refuse(f"the bill is under this coupon's minimum spend of {format_cents(coupon_type.min_spend_cents)}")


def discount_of(coupon_type, bill_cents, items=()) -> int:
    """What the coupon takes off a bill of `bill_cents` (after the member's discount): its amount, its
    percentage (rounded half up), or the price of one `sku` item of the bill up to the type's value;
    never more than the bill. A multiplier takes nothing off."""
    if coupon_type.kind == AMOUNT:
        off = coupon_type.value_cents
    elif coupon_type.kind == PERCENT:
        off = int((Decimal(bill_cents) * coupon_type.percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    elif coupon_type.kind == ITEM:
        prices = [item["unit_cents"] for item in items if item["sku"] == coupon_type.sku]
        off = min(max(prices), coupon_type.value_cents) if prices else 0
    else:
        off = 0
    return min(off, bill_cents)


def use(db, coupon_id, *, field) -> None:
    """Take one use of the coupon: one conditional UPDATE, so two tills cannot both take its last use."""
    taken = db.execute(update(Coupon).where(Coupon.id == coupon_id, Coupon.status == ISSUED, Coupon.uses_left > 0)
                       .values(uses_left=Coupon.uses_left - 1,
                               status=case((Coupon.uses_left == 1, USED), else_=ISSUED))).rowcount
    if taken != 1:
        raise Unprocessable("the coupon was used meanwhile", {field: "this coupon is used up"})


def give_back_use(db, coupon_id, *, now=None) -> bool:
    """The use a refund undoes back to the coupon, as its type's `on_refund` says: always (return),
    while the coupon is still valid (return_unexpired), or never (forfeit); a void coupon gets
    nothing back. One conditional UPDATE; returns whether the use came back."""
    rule = select(CouponType.on_refund).where(CouponType.id == Coupon.coupon_type_id).scalar_subquery()
    returns = or_(rule == RETURN, and_(rule == RETURN_UNEXPIRED, Coupon.valid_to > (now or utcnow())))
    return db.execute(update(Coupon).where(Coupon.id == coupon_id, Coupon.status != VOID, returns)
                      .values(uses_left=Coupon.uses_left + 1, status=ISSUED)).rowcount == 1


def void_coupon(db, code, *, field="code") -> Coupon:
    coupon, _ = find_coupon(db, code, field=field)
    if coupon.status == USED:
        raise Conflict(f"coupon {coupon.code} is used: refund its bill instead", {field: "already used"})
    db.execute(update(Coupon).where(and_(Coupon.id == coupon.id)).values(status=VOID))
    db.refresh(coupon)
    return coupon


def coupon_picture(coupon, coupon_type) -> dict:
    """A usable coupon as the cashier sees it: what it gives, what it needs, until when, and the
    tender line that uses it (`tender`: kind, the most it pays of a bill meeting its minimum)."""
    gives = {AMOUNT: lambda: format_cents(coupon_type.value_cents),
             PERCENT: lambda: f"{number_text(coupon_type.percent)}%",
             ITEM: lambda: f"{coupon_type.sku} (up to {format_cents(coupon_type.value_cents)})",
             MULTIPLIER: lambda: f"points x{number_text(coupon_type.multiplier)}"}[coupon_type.kind]()
    return {"code": coupon.code, "coupon_type": coupon_type.code, "name": coupon_type.name, "kind": coupon_type.kind,
            "gives": gives, "value": format_cents(coupon_type.value_cents) if coupon_type.value_cents else None,
            "percent": number_text(coupon_type.percent) if coupon_type.percent is not None else None,
            "sku": coupon_type.sku,
            "multiplier": number_text(coupon_type.multiplier) if coupon_type.multiplier is not None else None,
            "min_spend": format_cents(coupon_type.min_spend_cents), "uses_left": coupon.uses_left,
            "valid_to": isoformat(coupon.valid_to)}
