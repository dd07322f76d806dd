"""`lps jobs tiers`: the re-evaluation of every active member's tier, then the lifecycle rules.

Members are taken in batches by id; each batch is one committed transaction that
1. moves each active member to the tier the model qualifies them for: up at once, down by at most
   one level, never below a staff floor that has not expired (tier_changes reason 'evaluation');
2. marks members without activity for `lps.members.close_after_months` 'closed', and active ones
   without activity for `lps.members.dormant_after_months` 'dormant';
3. records the batch's last member id on the run's tier_evaluations row.

The run is named by its run key (default: the evaluation date). A finished run key is not run
again; an interrupted one resumes after its last member id, at the moment it started evaluating.
With a set-based tier model (ISetBasedTierModel) step 1 is one SQL statement per batch; otherwise
qualify() is called per member.
"""
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import aliased

from lps_core.batch_jobs import ProgressBar, in_order, job_workers, move_position, run_job_command
from lps_core.db import tune_for_aggregates
from lps_core.errors import Conflict, ValidationFailed
from lps_core.members.models import Tier
from lps_core.contract import ISetBasedTierModel
from lps_core.tiers.models import TierEvaluation
from lps_core.tiers.services import (
    ACTIVITY,
    MEMBERS,
    QUALIFYING_COUNTERS,
    TIER_CHANGES,
    evaluation_target,
    load_tiers,
    qualification_windows,
    qualifying_tiers,
    tier_model,
    tier_settings,
)
from lps_core.timeutil import add_months, as_utc, utcnow

TIERS = Tier.__table__
# Members per batch. At 1M members, one batch at a time: 200k took 16 s, 50k 24.5 s, 500k 17 s;
# two at once (the default workers), on one machine: 100k 12.8-13.7 s, 200k 17.6 s, 50k 15.6 s
# (bench/README.md; 9.6-10.3 s at 100k once the bench's copy no longer set off checkpoints).
DEFAULT_BATCH_SIZE = 100_000
EVALUATIONS = TierEvaluation.__table__


@dataclass
class TierJobResult:
    run_key: str
    evaluation_id: int | None = None
    dry_run: bool = False
    already_done: bool = False
    resumed_after: int = 0
    members_seen_up_to: int = 0
    upgraded: int = 0
    downgraded: int = 0
    dormant: int = 0
    closed: int = 0
    seconds: float = 0.0
    changes: list = field(default_factory=list)  # (member_id, old code, new code) in a dry run

    def add(self, batch: "TierJobResult"):
        self.upgraded += batch.upgraded
        self.downgraded += batch.downgraded
        self.dormant += batch.dormant
        self.closed += batch.closed
        self.changes.extend(batch.changes)

    def summary(self) -> str:
        if self.already_done:
            return f"tier evaluation {self.run_key!r} already finished; nothing to do"
        verb = "would change" if self.dry_run else "changed"
        resumed = f", resumed after member {self.resumed_after}" if self.resumed_after else ""
        return (f"tier evaluation {self.run_key!r}{' (dry run)' if self.dry_run else ''}{resumed}: {verb} "
                f"{self.upgraded} up, {self.downgraded} down; {self.dormant} dormant, {self.closed} closed; "
                f"{self.seconds:.1f} s")


def run_tier_job(env, args) -> int:
    """The CLI entry point (lps_core.cli.cmd_jobs_tiers)."""
    return run_job_command(env, args, lambda env, **options: evaluate_tiers(env, run_key=args.run_key,
                                                                           workers=args.workers, **options))


@dataclass(frozen=True)
class _Plan:
    """Everything a batch needs, worked out once per run."""

    now: datetime
    tiers: list
    ranks: list
    model: object
    windows: list
    set_based: bool
    dormant_before: datetime | None
    close_before: datetime | None
    evaluation_id: int | None
    dry_run: bool
    plugins: object


def evaluate_tiers(env, *, now=None, run_key=None, dry_run=False, batch_size=None, workers=None,
                   progress=False) -> TierJobResult:
    """Run (or resume) the evaluation named `run_key`, `workers` batches at once (lps_core.batch_jobs,
    in_order); see the module docstring."""
    batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    workers = job_workers(env, workers)
    started = time.monotonic()
    now = as_utc(now or utcnow())
    run_key = run_key or now.date().isoformat()
    if len(run_key) > 32:
        raise ValidationFailed("the run key must be at most 32 characters", {"run_key": "at most 32 characters"})
    config = tier_settings(env.settings)
    model = tier_model(env.plugins, env.settings)
    result = TierJobResult(run_key, dry_run=dry_run)

    def open_run(db):
        run = db.execute(select(EVALUATIONS).where(EVALUATIONS.c.run_key == run_key)).one_or_none()
        max_id = db.scalar(select(func.coalesce(func.max(MEMBERS.c.id), 0)))
        tiers = load_tiers(db)
        if run is None and not dry_run:
            run_id = db.scalar(insert(EVALUATIONS).values(run_key=run_key, started_at=now, last_member_id=0,
                                                          members_changed=0).returning(EVALUATIONS.c.id))
            return run_id, now, 0, False, max_id, tiers
        if run is None:
            return None, now, 0, False, max_id, tiers
        return run.id, as_utc(run.started_at), run.last_member_id, run.finished_at is not None, max_id, tiers

    evaluation_id, moment, after, finished, max_id, tiers = env.transaction(open_run)
    result.evaluation_id, result.resumed_after = evaluation_id, after
    if finished:
        result.already_done = True
        return result
    if not tiers:
        raise ValidationFailed("there are no tiers to evaluate", {"tiers": "define the programme's tiers first"})
    plan = _Plan(
        now=moment, tiers=tiers, ranks=[tier.rank for tier in tiers], model=model,
        windows=qualification_windows(config.window, moment),
        set_based=ISetBasedTierModel.providedBy(model) and getattr(model, "set_based", False),
        dormant_before=add_months(moment, -config.dormant_after_months) if config.dormant_after_months else None,
        close_before=add_months(moment, -config.close_after_months) if config.close_after_months else None,
        evaluation_id=evaluation_id, dry_run=dry_run, plugins=env.plugins,
    )
    bar = ProgressBar(max_id - after, progress)
    start = after
    ranges = ((first, min(first + batch_size, max_id)) for first in range(after, max_id, batch_size))
    finish = None if dry_run else (lambda db, bounds, done: _move_position(db, plan, *bounds, done))
    for (_, upto), done in in_order(env, ranges, lambda db, bounds: _run_batch(db, plan, *bounds),
                                         finish=finish, workers=workers):
        result.add(done)
        result.members_seen_up_to = upto
        bar.update(upto - start, f"member {upto:,} of {max_id:,}")
    bar.close()
    if not dry_run:
        env.transaction(lambda db: db.execute(update(EVALUATIONS).where(EVALUATIONS.c.id == evaluation_id)
                                              .values(finished_at=utcnow())))
    result.seconds = time.monotonic() - started
    return result


def _run_batch(db, plan, after, upto) -> TierJobResult:
    """One batch's tiers and lifecycle: its counts (and a dry run's changes) as a partial result."""
    tune_for_aggregates(db)  # at 200,000 members a batch's sort of window sums went to disk with 4 MB
    done = TierJobResult("", dry_run=plan.dry_run)
    changes = _evaluate_tiers_in_batch(db, plan, after, upto)
    for member_id, old_rank, new_rank, old_code, new_code in changes:
        if new_rank > old_rank or old_code is None:
            done.upgraded += 1
        else:
            done.downgraded += 1
        if plan.dry_run:
            done.changes.append((member_id, old_code, new_code))
    if changes and not plan.dry_run and plan.plugins.hook.lps_on_tier_changed.get_hookimpls():
        for member_id, _, _, old_code, new_code in changes:
            plan.plugins.hook.lps_on_tier_changed(dbsession=db, member_id=member_id, old_tier=old_code,
                                                  new_tier=new_code)
    done.closed, done.dormant = _apply_lifecycle(db, plan, after, upto)
    return done


def _move_position(db, plan, after, upto, done):
    """A batch's finish (in_order): the run's position moves on only from where the batch starts, or
    another process is running the same run key and the batch rolls back, rather than lower its
    members a second level."""
    changed = EVALUATIONS.c.members_changed + done.upgraded + done.downgraded
    if not move_position(db, EVALUATIONS, plan.evaluation_id, "last_member_id", after, upto,
                         members_changed=changed):
        raise Conflict(f"tier evaluation {plan.evaluation_id} is being run by another process "
                       f"(this one is after member {after})")


# --- Step 1: tiers --------------------------------------------------------------------------------

def _in_batch(column, after, upto):
    return and_(column > after, column <= upto)


def _greatest(first, second):
    """GREATEST for both backends (SQLite has none)."""
    return case((first >= second, first), else_=second)


def _window_sums(plan, after, upto):
    """Per member of the batch: each counter summed over each window, as columns `<counter>_<window>`."""
    columns = []
    for index, (start, end) in enumerate(plan.windows):
        in_window = and_(ACTIVITY.c.month >= start, ACTIVITY.c.month < end)
        for counter in QUALIFYING_COUNTERS:
            value = ACTIVITY.c[counter] if len(plan.windows) == 1 else case((in_window, ACTIVITY.c[counter]), else_=0)
            columns.append(func.sum(value).label(f"{counter}_{index}"))
    return (select(ACTIVITY.c.member_id, *columns)
            .where(_in_batch(ACTIVITY.c.member_id, after, upto),
                   ACTIVITY.c.month >= plan.windows[0][0], ACTIVITY.c.month < plan.windows[-1][1])
            .group_by(ACTIVITY.c.member_id).subquery("window_sums"))


def _batch_members(plan, after, upto, sums):
    """Active members of the batch with their current and floor ranks (the lowest rank when none)."""
    current, floor = aliased(TIERS, name="current_tier"), aliased(TIERS, name="floor_tier")
    entry = plan.ranks[0]
    joined = (MEMBERS.outerjoin(sums, sums.c.member_id == MEMBERS.c.id)
              .outerjoin(current, current.c.id == MEMBERS.c.tier_id)
              .outerjoin(floor, and_(floor.c.id == MEMBERS.c.tier_floor_id,
                                     MEMBERS.c.tier_floor_expires_at > bindparam("now", plan.now,
                                                                                 type_=MEMBERS.c.tier_floor_expires_at.type))))
    columns = (MEMBERS.c.id.label("member_id"), MEMBERS.c.tier_id.label("old_tier_id"),
               func.coalesce(current.c.rank, entry).label("old_rank"),
               func.coalesce(floor.c.rank, entry).label("floor_rank"))
    where = (_in_batch(MEMBERS.c.id, after, upto), MEMBERS.c.status == "active")
    return joined, columns, where


def _target_rank(plan, sums, old_rank, floor_rank):
    """The rank the evaluation moves a member to, as SQL: up to the best qualified rank of the windows
    at once, down by at most one level, never below the floor (evaluation_target, set-based)."""
    offered = qualifying_tiers(plan.tiers)
    qualified = None
    for index in range(len(plan.windows)):
        counters = {counter: func.coalesce(sums.c[f"{counter}_{index}"], 0) for counter in QUALIFYING_COUNTERS}
        rank = plan.model.qualified_rank_expression(counters, offered)
        qualified = rank if qualified is None else _greatest(qualified, rank)
    one_below = case(*[((old_rank == higher), lower) for lower, higher in zip(plan.ranks, plan.ranks[1:])],
                     else_=old_rank) if len(plan.ranks) > 1 else old_rank
    lowered = case((qualified >= old_rank, qualified), else_=_greatest(qualified, one_below))
    return _greatest(lowered, floor_rank)


def _changes_select(plan, after, upto):
    """The batch's tier changes: (member_id, old_tier_id, old_rank, new_tier_id, new_rank)."""
    sums = _window_sums(plan, after, upto)
    joined, columns, where = _batch_members(plan, after, upto, sums)
    old_rank, floor_rank = columns[2], columns[3]
    target = _target_rank(plan, sums, old_rank.element, floor_rank.element)
    evaluated = select(*columns[:3], target.label("new_rank")).select_from(joined).where(*where).subquery("evaluated")
    new_tier = aliased(TIERS, name="new_tier")
    return (select(evaluated.c.member_id, evaluated.c.old_tier_id, evaluated.c.old_rank,
                   new_tier.c.id.label("new_tier_id"), evaluated.c.new_rank)
            .join(new_tier, new_tier.c.rank == evaluated.c.new_rank)
            .where(or_(evaluated.c.old_tier_id.is_(None), evaluated.c.old_tier_id != new_tier.c.id)))


def _evaluate_tiers_in_batch(db, plan, after, upto):
    """Apply (or, in a dry run, only find) the batch's tier changes; returns them as
    (member_id, old rank, new rank, old code, new code)."""
    codes = {tier.id: tier.code for tier in plan.tiers}
    if plan.set_based:
        changes = _changes_select(plan, after, upto)
        if db.get_bind().dialect.name == "postgresql" and not plan.dry_run:
            rows = db.execute(_apply_in_one_statement(plan, changes)).all()
            return [(row.member_id, row.old_rank, row.new_rank, codes.get(row.old_tier_id), codes[row.new_tier_id])
                    for row in rows]
        rows = db.execute(changes if plan.dry_run else changes.with_for_update(of=MEMBERS)).all()
        found = [(row.member_id, row.old_tier_id, row.old_rank, row.new_tier_id, row.new_rank) for row in rows]
    else:
        found = _changes_by_qualify(db, plan, after, upto)
    if found and not plan.dry_run:
        _apply(db, plan, found)
    return [(member_id, old_rank, new_rank, codes.get(old_tier_id), codes[new_tier_id])
            for member_id, old_tier_id, old_rank, new_tier_id, new_rank in found]


def _apply_in_one_statement(plan, changes):
    """PostgreSQL: update the members, log tier_changes and return the changes in one round trip.
    A member whose tier moved since the batch's snapshot (an earning upgraded them) is left alone."""
    found = changes.cte("found")
    updated = (
        update(MEMBERS).where(MEMBERS.c.id == found.c.member_id,
                              MEMBERS.c.tier_id.is_not_distinct_from(found.c.old_tier_id))
        .values(tier_id=found.c.new_tier_id, tier_since=bindparam("now", plan.now, type_=MEMBERS.c.tier_since.type))
        .returning(MEMBERS.c.id.label("member_id"), found.c.old_tier_id, found.c.old_rank, found.c.new_tier_id,
                   found.c.new_rank)
        .cte("updated")
    )
    logged = insert(TIER_CHANGES).from_select(
        ["member_id", "old_tier_id", "new_tier_id", "reason", "evaluation_id", "created_at"],
        select(updated.c.member_id, updated.c.old_tier_id, updated.c.new_tier_id, literal("evaluation"),
               literal(plan.evaluation_id), bindparam("now", plan.now, type_=TIER_CHANGES.c.created_at.type)),
    ).cte("logged")
    return select(updated.c.member_id, updated.c.old_tier_id, updated.c.old_rank, updated.c.new_tier_id,
                  updated.c.new_rank).add_cte(logged)


def _apply(db, plan, found):
    """Write changes found under FOR UPDATE (or SQLite's database lock)."""
    db.execute(update(MEMBERS).where(MEMBERS.c.id == bindparam("b_member_id"))
               .values(tier_id=bindparam("b_tier_id"), tier_since=plan.now),
               [{"b_member_id": member_id, "b_tier_id": new_tier_id} for member_id, _, _, new_tier_id, _ in found])
    db.execute(insert(TIER_CHANGES), [
        {"member_id": member_id, "old_tier_id": old_tier_id, "new_tier_id": new_tier_id, "reason": "evaluation",
         "evaluation_id": plan.evaluation_id, "created_at": plan.now}
        for member_id, old_tier_id, _, new_tier_id, _ in found])


def _changes_by_qualify(db, plan, after, upto):
    """The same evaluation for a model without SQL: qualify() once per member and window."""
    sums = _window_sums(plan, after, upto)
    joined, columns, where = _batch_members(plan, after, upto, sums)
    query = select(*columns, *[sums.c[name] for name in sums.c.keys() if name != "member_id"]).select_from(joined)
    query = query.where(*where).order_by(MEMBERS.c.id)
    rows = db.execute(query if plan.dry_run else query.with_for_update(of=MEMBERS)).all()
    offered = qualifying_tiers(plan.tiers)
    rank_of = {tier.code: tier.rank for tier in offered}
    by_rank = {tier.rank: tier for tier in plan.tiers}
    found = []
    for row in rows:
        qualified = max(
            rank_of[plan.model.qualify({counter: int(getattr(row, f"{counter}_{index}") or 0)
                                        for counter in QUALIFYING_COUNTERS}, offered)]
            for index in range(len(plan.windows)))
        new_rank = evaluation_target(plan.ranks, row.old_rank, qualified, row.floor_rank)
        new_tier = by_rank[new_rank]
        if row.old_tier_id != new_tier.id:
            found.append((row.member_id, row.old_tier_id, row.old_rank, new_tier.id, new_rank))
    return found


# --- Step 2: lifecycle ----------------------------------------------------------------------------

def _apply_lifecycle(db, plan, after, upto) -> tuple[int, int]:
    """Close, then make dormant, the batch's members inactive for too long; returns (closed, dormant)."""
    last_seen = func.coalesce(MEMBERS.c.last_activity_at, MEMBERS.c.approved_at, MEMBERS.c.created_at)
    counts = []
    for before, statuses, new_status in ((plan.close_before, ("active", "dormant"), "closed"),
                                         (plan.dormant_before, ("active",), "dormant")):
        if before is None:
            counts.append(0)
            continue
        where = [_in_batch(MEMBERS.c.id, after, upto), MEMBERS.c.status.in_(statuses), last_seen < before]
        if new_status == "dormant" and plan.close_before is not None:
            where.append(last_seen >= plan.close_before)  # closed above (or, in a dry run, counted there)
        if plan.dry_run:
            counts.append(db.scalar(select(func.count()).select_from(MEMBERS).where(*where)))
        else:
            counts.append(db.execute(update(MEMBERS).where(*where).values(status=new_status)).rowcount)
    return counts[0], counts[1]
