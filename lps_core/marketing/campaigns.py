"""Campaigns: a message to a segment through the outbox, optionally with bonus points or a coupon,
with a held-out control group, sent by `lps jobs campaigns` when due.

Sending reads the segment as it is at send time (once per run, one statement), then walks its
members in id order, a batch per committed transaction. For each member it first claims (campaign, member) in campaign_members (INSERT ... ON
CONFLICT DO NOTHING): a member claimed already, by an earlier run or by another process, is
skipped, so a run interrupted and run again (or run twice) gives nobody anything twice. A claimed
member is in the control group when the hash of the campaign's seed and the member's id falls in
the control share: random across members, the same on every run, and recorded (control=True) with
nothing given. Every other member gets, in the same transaction:
- the bonus points, through the ledger with the business key `campaign:<campaign>:<member>`;
- the coupon, through lps_core.coupons (source "campaign", the campaign's id as reference);
- the `campaign` message through the outbox as marketing: only on channels the member agreed to,
  with quiet hours, the per-member rate limit, consent withdrawn since and the unsubscribe link
  applied by the worker (lps_core.messages).
When no member is left the campaign is `sent`."""
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.marketing.models import CANCELLED, DRAFT, SCHEDULED, SENDING, SENT, Campaign, CampaignMember, Segment
from lps_core.marketing.schemas import SegmentDefinition
from lps_core.marketing.segments import member_ids
from lps_core.timeutil import utcnow

DEFAULT_BATCH_SIZE = 500
EDITABLE = (DRAFT, SCHEDULED)
COUPON_LINE = {"en": "Your coupon code: {code}", "zh_CN": "您的优惠券券码：{code}"}


def in_control(seed: str, member_id: int, percent: int) -> bool:
    """Whether the member is held out: the first 8 bytes of sha256(seed:member) as a number below
    percent% of 2**64. Reproducible from the recorded seed; independent of the member's order."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{seed}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < percent * (2 ** 64) // 100


def coupons_available() -> bool:
    """Whether lps_core.coupons (a later part of the programme) is installed with its service."""
    from importlib.util import find_spec

    return find_spec("lps_core.coupons") is not None and find_spec("lps_core.coupons.services") is not None


def get_campaign(db, campaign_id) -> Campaign:
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("no such campaign", {"id": "no such campaign"})
    return campaign


def check_campaign(db, values: dict) -> None:
    if db.get(Segment, values["segment_id"]) is None:
        raise Unprocessable("no such segment", {"segment_id": "no such segment"})
    code = values.get("coupon_type_code")
    if code:
        if not coupons_available():
            raise Unprocessable("coupons are not installed", {"coupon_type_code": "coupons are not available"})
        from lps_core.coupons.models import CouponType

        if db.scalar(select(CouponType.id).where(CouponType.code == code)) is None:
            raise Unprocessable("no such coupon type", {"coupon_type_code": "unknown code"})


def create_campaign(db, data, *, by=None, now=None) -> Campaign:
    values = data.model_dump()
    check_campaign(db, values)
    campaign = Campaign(**values, status=SCHEDULED if values["send_at"] else DRAFT, seed=secrets.token_hex(8),
                        created_by=by, created_at=now or utcnow())
    db.add(campaign)
    db.flush()
    return campaign


def update_campaign(db, campaign, data) -> Campaign:
    if campaign.status not in EDITABLE:
        raise Conflict(f"a {campaign.status} campaign cannot be changed", {"status": campaign.status})
    values = data.model_dump()
    check_campaign(db, values)
    for name, value in values.items():
        setattr(campaign, name, value)
    campaign.status = SCHEDULED if campaign.send_at else DRAFT
    db.flush()
    return campaign


def schedule(db, campaign, send_at: datetime | None, now=None) -> Campaign:
    if campaign.status not in EDITABLE:
        raise Conflict(f"a {campaign.status} campaign cannot be scheduled", {"status": campaign.status})
    campaign.send_at = send_at or now or utcnow()
    campaign.status = SCHEDULED
    db.flush()
    return campaign


def cancel(db, campaign) -> Campaign:
    if campaign.status not in EDITABLE:
        raise Conflict(f"a {campaign.status} campaign cannot be cancelled", {"status": campaign.status})
    campaign.status = CANCELLED
    db.flush()
    return campaign


@dataclass
class SendReport:
    dry_run: bool
    campaigns: list = field(default_factory=list)  # (id, name, members, control, messages, points, coupons)

    def summary(self) -> str:
        if not self.campaigns:
            return "campaigns: none due"
        lines = []
        for cid, name, members, control, messages, points, coupons in self.campaigns:
            if self.dry_run:
                lines.append(f"campaign {cid} {name} (dry run: nothing changed): segment has {members:,} members "
                             f"now, about {control:,} would be held out")
            else:
                lines.append(f"campaign {cid} {name}: {members:,} members reached, {control:,} held out, "
                             f"{messages:,} messages queued, {points:,} points, {coupons:,} coupons")
        return "\n".join(lines)


def due_campaigns(db, now) -> list[int]:
    """Scheduled campaigns whose time has come, and those a run left half sent."""
    return list(db.scalars(select(Campaign.id).where(
        ((Campaign.status == SCHEDULED) & (Campaign.send_at <= now)) | (Campaign.status == SENDING))
        .order_by(Campaign.send_at, Campaign.id)))


def send_due(env, *, now=None, dry_run=False, batch_size=None, tz=None, expires_at=None) -> SendReport:
    """Send (or, dry, count) every due campaign; see the module docstring."""
    from lps_core.marketing.segments import count
    from lps_core.settings import settings_of

    now = now or utcnow()
    settings = settings_of(env.settings)
    tz = tz or settings.timezone
    if expires_at is None:
        from lps_core.expiry.policy import ExpiryPolicy

        expires_at = ExpiryPolicy.of(settings.expiry).lot_expires_at(now)
    report = SendReport(dry_run)
    for campaign_id in env.transaction(lambda db: due_campaigns(db, now)):
        if dry_run:
            def counted(db):
                campaign = db.get(Campaign, campaign_id)
                definition = SegmentDefinition.model_validate(db.get(Segment, campaign.segment_id).definition)
                total = count(db, definition, now, tz)
                return campaign.name, total, total * campaign.control_percent // 100
            name, total, held = env.transaction(counted)
            report.campaigns.append((campaign_id, name, total, held, 0, 0, 0))
            continue
        report.campaigns.append(send_campaign(env, campaign_id, now=now, tz=tz, batch_size=batch_size,
                                              channels=list(env.plugins.channels), expires_at=expires_at))
    return report


def send_campaign(env, campaign_id, *, now, tz, batch_size=None, channels=None, expires_at=None):
    """Send one campaign to its segment, batch by batch; returns its totals for this run."""
    batch_size = batch_size or DEFAULT_BATCH_SIZE

    def start(db):
        campaign = db.get(Campaign, campaign_id)
        if campaign.status == SCHEDULED:
            campaign.status, campaign.started_at = SENDING, now
        return campaign.name
    name = env.transaction(start)
    # The segment is read once per run (one statement, however slow its conditions), then walked
    # in committed batches; members claimed by an earlier run are skipped by their claim.
    ids = env.transaction(lambda db: _segment_now(db, campaign_id, now, tz))
    totals = [0, 0, 0, 0, 0]
    for start_at in range(0, len(ids), batch_size):
        batch = ids[start_at:start_at + batch_size]
        done = env.transaction(lambda db: _send_batch(db, campaign_id, batch, now, tz, channels, expires_at))
        if done is None:
            break  # cancelled or finished by another process meanwhile
        totals = [a + b for a, b in zip(totals, done)]
    env.transaction(lambda db: db.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == SENDING)
                                          .values(status=SENT, finished_at=utcnow())))
    return (campaign_id, name, *totals)


def _segment_now(db, campaign_id, now, tz) -> list[int]:
    campaign = db.get(Campaign, campaign_id)
    if campaign.status != SENDING:
        return []
    definition = SegmentDefinition.model_validate(db.get(Segment, campaign.segment_id).definition)
    return member_ids(db, definition, now, tz)


def _send_batch(db, campaign_id, ids, now, tz, channels, expires_at):
    campaign = db.get(Campaign, campaign_id)
    if campaign.status != SENDING:
        return None
    reached, held = [], 0
    for member_id in ids:
        control = in_control(campaign.seed, member_id, campaign.control_percent)
        if not _claim(db, campaign_id, member_id, control, now):
            continue
        if control:
            held += 1
        else:
            reached.append(member_id)
    coupons = _issue_coupons(db, campaign, reached, now, tz)
    messages = points = 0
    for member_id in reached:
        given = give(db, campaign, member_id, now=now, channels=channels, expires_at=expires_at,
                     coupon_code=coupons.get(member_id))
        db.execute(update(CampaignMember).where(CampaignMember.campaign_id == campaign_id,
                                                CampaignMember.member_id == member_id).values(**given))
        messages += given["messages"]
        points += given["points"]
    return len(reached), held, messages, points, len(coupons)


def _issue_coupons(db, campaign, member_ids, now, tz) -> dict:
    """The campaign's coupon for each member (one set-based issue per batch): {member: code}."""
    if not campaign.coupon_type_code or not member_ids or not coupons_available():
        return {}
    from lps_core.coupons.services import issue_coupons

    issued = issue_coupons(db, campaign.coupon_type_code, member_ids, source="campaign", source_ref=str(campaign.id),
                           now=now, tz=tz)
    return {coupon.member_id: coupon.code for coupon in issued}


def give(db, campaign, member_id, *, now, channels=None, expires_at=None, coupon_code=None) -> dict:
    """The member's bonus points and message (the coupon is issued for the batch); what was given
    (for campaign_members). The campaign's text may name {member_name}, {coupon_code} and
    {bonus_points}; a coupon the text does not name is added on a line of its own."""
    from lps_core.members.models import Member
    from lps_core.messages.outbox import enqueue, messages_settings
    from lps_core.messages.templates import fill

    entry_id, points = _credit(db, campaign, member_id, now, expires_at)
    member = db.get(Member, member_id)
    values = {"member_name": member.name, "coupon_code": coupon_code or "", "bonus_points": f"{points:,}"}
    body = fill(campaign.body, values)
    if coupon_code and "{coupon_code}" not in campaign.body:
        language = member.language or messages_settings(db).default_language
        body += f"\n\n{COUPON_LINE.get(language, COUPON_LINE['en']).format(code=coupon_code)}"
    wanted = [name for name in (campaign.channels or ["inbox", "email", "sms"])
              if channels is None or name == "inbox" or name in channels]
    queued = enqueue(db, "campaign", member_id=member_id, marketing=True, key=f"{campaign.id}:{member_id}",
                     context={"subject": fill(campaign.subject, values), "body": body}, channels=wanted)
    return {"messages": len(queued), "points": points, "entry_id": entry_id, "coupons": 1 if coupon_code else 0}


def _credit(db, campaign, member_id, now, expires_at):
    from lps_core.ledger import services as ledger
    from lps_core.ledger.models import POINTS, Account

    if campaign.bonus_points <= 0:
        return None, 0
    account_id = db.scalar(select(Account.id).where(Account.member_id == member_id, Account.kind == POINTS))
    if account_id is None:
        return None, 0
    key = f"campaign:{campaign.id}:{member_id}"
    note = f"campaign {campaign.id} {campaign.name}"[:200]
    posting = ledger.credit(db, account_id, campaign.bonus_points, kind="bonus", business_key=key, fingerprint=key,
                            occurred_at=now, expires_at=expires_at, note=note,
                            breakdown=[{"step": "campaign", "rule": f"campaign:{campaign.id}",
                                        "points": campaign.bonus_points, "description": note}])
    return posting.entry_id, campaign.bonus_points


def _claim(db, campaign_id, member_id, control, now) -> bool:
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    claimed = db.scalar(insert(CampaignMember).values(campaign_id=campaign_id, member_id=member_id, control=control,
                                                      claimed_at=now, messages=0, points=0, coupons=0)
                        .on_conflict_do_nothing(index_elements=["campaign_id", "member_id"])
                        .returning(CampaignMember.member_id))
    return claimed is not None


def run_campaigns_job(env, args) -> int:
    """The CLI entry point (lps_core.cli.cmd_jobs_campaigns)."""
    import sys

    from lps_core.errors import ValidationFailed
    from lps_core.batch_jobs import parse_now

    if args.batch_size is not None and args.batch_size < 1:
        raise ValidationFailed("--batch-size must be at least 1", {"batch_size": "must be at least 1"})
    report = send_due(env, now=parse_now(args.now), dry_run=args.dry_run, batch_size=args.batch_size)
    print(report.summary(), file=sys.stdout)
    return 0
