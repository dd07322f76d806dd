"""Campaigns sent by `lps jobs campaigns`: consent respected, the control group held out and the
same on every draw, a re-run (or a resumed run) giving nobody anything twice, bonus points as
ledger entries that reconcile (find_drift), the results; the command's --dry-run."""
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from lps_core.db import get_session_factory, run_in_transaction
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry
from lps_core.marketing import campaigns
from lps_core.marketing.models import SCHEDULED, SENT, Campaign, CampaignMember, Segment
from lps_core.marketing.results import campaign_results
from lps_core.marketing.schemas import CampaignIn
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.messages.consent import set_consent
from lps_core.messages.models import OutboxMessage
from lps_core.testing import TEST_INI_LINES, TEST_SETTINGS
from lps_core.timeutil import utcnow

LPS = str(Path(sys.executable).with_name("lps"))


class JobEnvironment:
    def __init__(self, engine, plugins):
        self.settings = {"lps.timezone": "Asia/Shanghai", **TEST_SETTINGS}
        self.session_factory = get_session_factory(engine)
        self.plugins = plugins

    def transaction(self, work):
        return run_in_transaction(self.session_factory, work)


@pytest.fixture
def job(engine, plugins, db, seed):
    def run(**options):
        db.commit()
        report = campaigns.send_due(JobEnvironment(engine, plugins), **options)
        db.expire_all()
        return report

    return run


def enrol(db, n, *, consent=("email",)) -> int:
    member_id = enrol_member(db, Enrolment(name=f"Member {n}", channel="desk", phone="+8613912345678",
                                           email=f"m{n}@example.test", birthday=date(1980, 1, 1)),
                             force_duplicate_phone=True)
    approve_member(db, member_id)
    for channel in consent:
        set_consent(db, member_id, channel, True, source="staff")
    return member_id


def campaign(db, *, control=0, bonus=0, segment=None, send_at=None, coupon=None, body="Offers for {member_name}") -> Campaign:
    if segment is None:
        segment = Segment(name=f"All {utcnow().timestamp()}", definition={})
        db.add(segment)
        db.flush()
    made = campaigns.create_campaign(db, CampaignIn.model_validate({
        "name": "Autumn", "segment_id": segment.id, "subject": "Hello {member_name}", "body": body,
        "channels": ["email"], "control_percent": control, "bonus_points": bonus, "coupon_type_code": coupon,
        "send_at": (send_at or utcnow() - timedelta(minutes=1)).isoformat()}), by="test")
    db.commit()
    return made


def sent_to(db, campaign_id) -> set:
    return set(db.scalars(select(OutboxMessage.member_id).where(
        OutboxMessage.event == "campaign", OutboxMessage.dedupe_key.like(f"campaign:{campaign_id}:%"))))


def test_consent_is_respected(job, db):
    agreed, refused = enrol(db, 1), enrol(db, 2, consent=())
    made = campaign(db)
    report = job()
    assert [row[2] for row in report.campaigns] == [2]  # both are reached, only one can be written to
    assert sent_to(db, made.id) == {agreed}
    message = db.scalar(select(OutboxMessage).where(OutboxMessage.member_id == agreed, OutboxMessage.event == "campaign"))
    assert (message.channel, message.kind, message.subject) == ("email", "marketing", "Hello Member 1")
    assert message.body == "Offers for Member 1"
    assert refused not in sent_to(db, made.id)
    assert db.get(Campaign, made.id).status == SENT


def test_the_control_group_is_held_out_recorded_and_stable(job, db):
    ids = [enrol(db, n) for n in range(40)]
    made = campaign(db, control=25, bonus=100)
    job()
    rows = db.scalars(select(CampaignMember).where(CampaignMember.campaign_id == made.id)).all()
    control = {row.member_id for row in rows if row.control}
    assert len(rows) == 40 and 0 < len(control) < 40
    assert control == {m for m in ids if campaigns.in_control(made.seed, m, 25)}  # reproducible from the seed
    assert sent_to(db, made.id) == set(ids) - control
    assert all(row.points == 0 and row.messages == 0 for row in rows if row.control)
    given = set(db.scalars(select(LedgerEntry.business_key).where(LedgerEntry.business_key.like(f"campaign:{made.id}:%"))))
    assert given == {f"campaign:{made.id}:{m}" for m in set(ids) - control}
    assert campaigns.in_control("other seed", ids[0], 0) is False


def test_a_rerun_or_resumed_run_gives_nobody_anything_twice_and_the_ledger_reconciles(job, db):
    ids = [enrol(db, n) for n in range(6)]
    made = campaign(db, bonus=250)
    job(batch_size=2)
    first = db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event == "campaign"))
    # a run interrupted half way: the campaign still sending, one member's claim lost with its work undone
    db.execute(update(Campaign).where(Campaign.id == made.id).values(status="sending"))
    db.commit()
    report = job(batch_size=2)
    assert [row[2] for row in report.campaigns] == [0]
    assert db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event == "campaign")) == first
    entries = db.scalars(select(LedgerEntry).where(LedgerEntry.business_key.like(f"campaign:{made.id}:%"))).all()
    assert len(entries) == len(ids) and {e.amount for e in entries} == {250}
    assert find_drift(db) == []
    assert job().campaigns == []  # sent: nothing is due any more


def test_a_campaign_not_yet_due_waits_and_dry_run_counts(job, db):
    enrol(db, 1)
    made = campaign(db, send_at=utcnow() + timedelta(hours=1))
    assert job().campaigns == []
    assert db.get(Campaign, made.id).status == SCHEDULED
    report = job(dry_run=True, now=utcnow() + timedelta(hours=2))
    assert [row[2] for row in report.campaigns] == [1] and "dry run" in report.summary()
    assert db.scalar(select(func.count()).select_from(CampaignMember)) == 0


def test_results_compare_recipients_with_the_control_group(job, db):
    ids = [enrol(db, n) for n in range(20)]
    made = campaign(db, control=30)
    job()
    results = campaign_results(db, made.id)
    control = {row.member_id for row in db.scalars(select(CampaignMember).where(CampaignMember.control))}
    assert results["recipients"] == 20 - len(control) and results["control"] == len(control)
    assert results["queued"] + results["sent"] == 20 - len(control)
    assert results["failed"] == 0 and results["unsubscribed"] == 0
    set_consent(db, sorted(set(ids) - control)[0], "email", False, source="unsubscribe")
    db.commit()
    assert campaign_results(db, made.id)["unsubscribed"] == 1


def test_the_command_dry_run(tmp_path, database_url, seed, db):
    enrol(db, 1)
    campaign(db)
    db.commit()
    ini = tmp_path / "lps.ini"
    ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}")
    done = subprocess.run([LPS, "-c", str(ini), "jobs", "campaigns", "--dry-run"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "dry run: nothing changed" in done.stdout and "1 members" in done.stdout
    assert db.scalar(select(func.count()).select_from(CampaignMember)) == 0


def test_a_coupon_is_issued_to_recipients_only_and_named_in_the_message(job, db):
    from lps_core.coupons.models import Coupon
    from lps_core.coupons.services import TypeSpec, save_type

    save_type(db, TypeSpec(code="AUTUMN10", name="10 off", kind="amount", value_cents=1000, valid_days=30))
    ids = [enrol(db, n) for n in range(10)]
    made = campaign(db, control=30, coupon="AUTUMN10", body="Use {coupon_code} this week")
    report = job()
    control = {row.member_id for row in db.scalars(select(CampaignMember).where(CampaignMember.control))}
    coupons = {c.member_id: c.code for c in db.scalars(select(Coupon).where(Coupon.source == "campaign",
                                                                           Coupon.source_ref == str(made.id)))}
    assert set(coupons) == set(ids) - control and report.campaigns[0][6] == len(coupons)
    for member_id, code in coupons.items():
        body = db.scalar(select(OutboxMessage.body).where(OutboxMessage.member_id == member_id,
                                                          OutboxMessage.event == "campaign"))
        assert body == f"Use {code} this week"
    job()  # nothing twice
    assert db.scalar(select(func.count()).select_from(Coupon)) == len(coupons)
    assert campaign_results(db, made.id)["coupons_issued"] == len(coupons)
