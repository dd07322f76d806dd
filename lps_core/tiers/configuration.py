"""The programme's tiers as configuration: create, change, reorder and retire them (the tier API and
the configuration screen call these; input arrives checked by lps_core.tiers.schemas).

A tier's code never changes: members' history, promotions, rewards and floors name it. Its rank is
its place in the ladder: reordering gives the same set of ranks to the tiers in their new order, and
moves no member (the next evaluation, `lps jobs tiers`, does). Retiring a tier moves every member
who holds it to the next lower tier in use (to the next higher one when the lowest tier is retired),
each with a tier_changes row (reason 'retired') and the lps_on_tier_changed hook; staff floors on
it move the same way. A retired tier keeps its row with no rank, and can be neither bought, reached
nor edited. The last tier in use cannot be retired."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.members.models import Member, Tier
from lps_core.tiers.models import TierChange
from lps_core.tiers.schemas import TierChangeIn, TierIn
from lps_core.tiers.services import threshold_of
from lps_core.timeutil import as_utc, utcnow

RETIRED = "retired"  # the tier_changes reason of a member moved off a retired tier


def tier_values(tier: Tier) -> dict:
    """A tier's editable values as text and lists, as the audit log and the forms show them."""
    return {"name": tier.name, "rank": tier.rank, "multiplier": _text(tier.multiplier),
            "discount_rate": _text(tier.discount_rate), "entitlements": list(tier.entitlements or []),
            "qualification": dict(tier.qualification or {}), "qualification_mode": tier.qualification_mode,
            "purchase_points": tier.purchase_points}


def tier_by_code(db, code, *, for_update=False) -> Tier:
    query = select(Tier).where(Tier.code == code).execution_options(populate_existing=True)
    tier = db.scalar(query.with_for_update() if for_update else query)
    if tier is None:
        raise NotFound(f"tier {code!r} does not exist", {"code": "no such tier"})
    return tier


def tiers_in_use(db, *, for_update=False) -> list[Tier]:
    """The tiers not retired, lowest rank first. Locked: every change of the ladder takes them in this
    order, so two staff reordering at once wait for each other instead of mixing their orders."""
    query = select(Tier).where(Tier.retired_at.is_(None)).order_by(Tier.rank) \
        .execution_options(populate_existing=True)
    if for_update:
        # Under READ COMMITTED the locking read sees the ladder as it was when it began waiting;
        # read it again once the locks are held, to see what the change before this one committed.
        db.execute(select(Tier.id).where(Tier.retired_at.is_(None)).with_for_update()).all()
    return list(db.scalars(query))


def create_tier(db, new: TierIn) -> dict:
    """Add a tier above `new.above` (at the top when None); returns its values for the audit log."""
    ladder = tiers_in_use(db, for_update=True)
    taken = db.scalar(select(Tier.retired_at.is_not(None)).where(Tier.code == new.code))
    if taken is not None:
        raise Conflict(f"tier {new.code!r} already exists" + (" (retired)" if taken else ""),
                       {"code": "is used by a retired tier" if taken else "already exists"})
    position = len(ladder)
    if new.above is not None:
        below = next((index for index, tier in enumerate(ladder) if tier.code == new.above), None)
        if below is None:
            raise Unprocessable(f"tier {new.above!r} is not a tier in use", {"above": "no such tier in use"})
        position = below + 1
    values = {"multiplier": Decimal(1), "discount_rate": Decimal(0), "entitlements": [], "qualification": {},
              "qualification_mode": "any", "purchase_points": None, **new.values()}
    values.pop("above", None)
    values.pop("code", None)
    top = max((tier.rank for tier in ladder), default=-1) + 1
    tier = Tier(code=new.code, rank=top, **values)
    try:
        with db.begin_nested():  # the first tier of an empty ladder has no row to lock: two may race
            db.add(tier)
    except IntegrityError:
        raise Conflict("the tiers changed at the same time; try again", {"code": "was taken meanwhile"}) from None
    _rank_in_order(db, ladder[:position] + [tier] + ladder[position:])
    return tier_values(tier)


def update_tier(db, code, change: TierChangeIn) -> tuple[dict, dict]:
    """Change the given fields of a tier in use; returns (before, after) for the audit log."""
    tier = tier_by_code(db, code, for_update=True)
    if tier.retired_at is not None:
        raise Conflict(f"tier {code!r} is retired and cannot change", {"code": "is retired"})
    before = tier_values(tier)
    for name, value in change.values().items():
        setattr(tier, name, value)
    threshold_of(code, tier.qualification)  # stored as load_tiers reads it back
    db.flush()
    return before, tier_values(tier)


def reorder_tiers(db, codes: list[str]) -> tuple[list, list]:
    """Put the tiers in use in the order `codes` (lowest first), which must name each of them once.
    Returns the order before and after, as codes."""
    ladder = tiers_in_use(db, for_update=True)
    by_code = {tier.code: tier for tier in ladder}
    for index, code in enumerate(codes):
        if code not in by_code:
            raise Unprocessable(f"tier {code!r} is not a tier in use", {f"codes[{index}]": "no such tier in use"})
    missing = [tier.code for tier in ladder if tier.code not in codes]
    if missing:
        raise Unprocessable("the order must name every tier in use",
                            {"codes": "leaves out " + ", ".join(missing)})
    before = [tier.code for tier in ladder]
    _rank_in_order(db, [by_code[code] for code in codes])
    return before, list(codes)


def _rank_in_order(db, ordered: list[Tier]):
    """Give the tiers, in this order, the ranks they hold between them, in ascending order. Ranks are
    unique and PostgreSQL checks that row by row, so the tiers that move pass through free negative
    ranks first."""
    ranks = sorted(tier.rank for tier in ordered)
    moving = [(tier, rank) for tier, rank in zip(ordered, ranks) if tier.rank != rank]
    if not moving:
        return
    lowest = min(0, db.scalar(select(func.min(Tier.rank))) or 0)
    for offset, (tier, _) in enumerate(moving, start=1):
        db.execute(update(Tier).where(Tier.id == tier.id).values(rank=lowest - offset))
    for tier, rank in moving:
        db.execute(update(Tier).where(Tier.id == tier.id).values(rank=rank))
    for tier in ordered:
        db.refresh(tier, ["rank"])


@dataclass(frozen=True)
class RetiredTier:
    code: str
    moved_to: str
    members_moved: int
    floors_moved: int
    retired_at: datetime


def retire_tier(db, plugins, code, now=None) -> RetiredTier:
    """Retire a tier in use: its members and floors move to the next lower tier in use (the next
    higher one when it is the lowest), each member with a tier_changes row and the hook."""
    now = as_utc(now or utcnow())
    ladder = tiers_in_use(db, for_update=True)
    tier = tier_by_code(db, code, for_update=True)
    if tier.retired_at is not None:
        raise Conflict(f"tier {code!r} is already retired", {"code": "is already retired"})
    if len(ladder) == 1:
        raise Conflict(f"tier {code!r} is the last tier in use and cannot be retired",
                       {"code": "is the last tier in use"})
    index = next(index for index, candidate in enumerate(ladder) if candidate.id == tier.id)
    successor = ladder[index - 1] if index > 0 else ladder[1]
    holders = db.scalars(select(Member.id).where(Member.tier_id == tier.id).order_by(Member.id)
                         .with_for_update()).all()
    if holders:
        db.execute(update(Member).where(Member.tier_id == tier.id).values(tier_id=successor.id, tier_since=now))
        db.execute(insert(TierChange), [{"member_id": member_id, "old_tier_id": tier.id,
                                         "new_tier_id": successor.id, "reason": RETIRED, "created_at": now}
                                        for member_id in holders])
    floors = db.execute(update(Member).where(Member.tier_floor_id == tier.id)
                        .values(tier_floor_id=successor.id)).rowcount
    db.execute(update(Tier).where(Tier.id == tier.id).values(rank=None, retired_at=now))
    db.refresh(tier)
    for member_id in holders:
        plugins.hook.lps_on_tier_changed(dbsession=db, member_id=member_id, old_tier=tier.code,
                                         new_tier=successor.code)
    return RetiredTier(tier.code, successor.code, len(holders), floors, now)


def _text(value) -> str:
    return format(Decimal(value).normalize(), "f")
