"""`lps worker` in process: claims, sends through the channels, retries with back-off, dead
letters, leases, quiet hours, the rate limit and consent, against a real loopback SMTP server."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lps_core.members.services import Enrolment, enrol_member
from lps_core.messages.consent import set_consent
from lps_core.messages.models import OutboxMessage
from lps_core.messages.outbox import enqueue
from lps_core.messages.unsubscribe import make_token, read_token
from lps_core.messages.worker import Worker, quiet_hours_end, retry_dead
from lps_core.plugins import load_plugins
from lps_core.settings import Settings
from lps_core.testing import TEST_SETTINGS
from lps_core.timeutil import as_utc

MESSAGE_SETTINGS = {"lps.messages.quiet_hours": "", "lps.messages.rate_limit_per_hour": "0",
                    "lps.messages.backoff_seconds": "60", "lps.messages.max_tries": "3"}


def make_worker(engine, smtp_port, **settings):
    mapping = {**TEST_SETTINGS, "lps.email.host": "127.0.0.1", "lps.email.port": str(smtp_port),
               "lps.email.sender": "loyalty@hotel.example.test", "lps.email.timeout": "5",
               "lps.rules.cache_seconds": "0", **MESSAGE_SETTINGS, **settings}
    return Worker(lambda: Session(engine, expire_on_commit=False), load_plugins(mapping),
                  Settings.from_mapping(mapping), name="test-worker")


def a_member(db, email="li@example.test", phone="+8613800000001"):
    member_id = enrol_member(db, Enrolment(name="Li Wei", channel="desk", phone=phone, email=email),
                             force_duplicate_phone=True)
    db.commit()
    return member_id


def outbox(db):
    db.commit()  # a new snapshot: on SQLite a read transaction keeps seeing the old one
    db.expire_all()
    return {row.channel: row for row in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))}


@pytest.fixture
def email_on(seed):
    seed.switch("channel", "email")


def test_each_channel_delivers_and_the_message_id_is_the_idempotency_key(db, engine, seed, email_on, smtp_server):
    member_id = a_member(db)
    enqueue(db, "tier_changed", member_id=member_id, context={"old_tier": "Silver", "new_tier": "Gold"}, language="en")
    db.commit()
    report = make_worker(engine, smtp_server.port).cycle()
    rows = outbox(db)
    assert rows["email"].status == "sent" and rows["inbox"].status == "sent"
    assert rows["sms"].status == "cancelled" and "sms" in rows["sms"].last_error  # installed or not, it is off
    assert (report.sent, report.cancelled) == (2, 1)
    (mail,) = smtp_server.messages()
    assert mail["Message-ID"] == f"<lps-message-{rows['email'].id}@hotel.example.test>"
    assert mail["Subject"] == "Your tier is now Gold" and rows["email"].gateway_id == mail["Message-ID"]
    assert rows["email"].tries == 1 and rows["email"].sent_at is not None


def test_a_temporary_failure_backs_off_then_dies_after_max_tries(db, engine, seed, email_on, smtp_server):
    member_id = a_member(db, phone=None)
    enqueue(db, "tier_changed", member_id=member_id, context={}, channels=["email"])
    db.commit()
    smtp_server.data_reply = "451 try again later"
    worker = make_worker(engine, smtp_server.port)
    now = datetime.now(timezone.utc)
    worker.cycle(now)
    row = outbox(db)["email"]
    assert (row.status, row.tries) == ("queued", 1) and "451" in row.last_error, row.last_error
    assert timedelta(seconds=55) < as_utc(row.next_attempt_at) - now < timedelta(seconds=70)
    assert worker.cycle(now).claimed == 0  # not due yet
    worker.cycle(now + timedelta(seconds=61))
    row = outbox(db)["email"]
    assert (row.status, row.tries) == ("queued", 2)
    assert timedelta(seconds=115) < as_utc(row.next_attempt_at) - now - timedelta(seconds=61) < timedelta(seconds=130)
    worker.cycle(now + timedelta(seconds=400))
    row = outbox(db)["email"]
    assert (row.status, row.tries) == ("dead", 3) and "gave up after 3 tries" in row.last_error
    assert worker.backoff(1) == 60 and worker.backoff(3) == 240


def test_a_permanent_failure_is_dead_at_once_and_staff_can_retry_it(db, engine, seed, email_on, smtp_server):
    member_id = a_member(db, phone=None)
    enqueue(db, "tier_changed", member_id=member_id, context={}, channels=["email"])
    db.commit()
    smtp_server.replies = {"li@example.test": "550 no such user"}
    worker = make_worker(engine, smtp_server.port)
    worker.cycle()
    row = outbox(db)["email"]
    assert (row.status, row.tries) == ("dead", 1) and "550" in row.last_error
    smtp_server.replies = {}
    change = retry_dead(db, row.id)
    db.commit()
    assert change["before"]["status"] == "dead"
    worker.cycle()
    assert outbox(db)["email"].status == "sent" and len(smtp_server.envelopes) == 1


def test_a_message_left_sending_is_taken_again_after_its_lease(db, engine, seed, email_on, smtp_server):
    member_id = a_member(db, phone=None)
    enqueue(db, "tier_changed", member_id=member_id, context={}, channels=["email"])
    db.commit()
    worker = make_worker(engine, smtp_server.port, **{"lps.messages.lease_seconds": "30"})
    now = datetime.now(timezone.utc)
    (claimed,) = worker.claim(now, type("R", (), {})())  # a worker that claimed it and died
    assert outbox(db)["email"].status == "sending"
    assert worker.cycle(now + timedelta(seconds=10)).claimed == 0  # still leased
    worker.cycle(now + timedelta(seconds=31))
    row = outbox(db)["email"]
    assert (row.status, row.tries) == ("sent", 2) and len(smtp_server.envelopes) == 1
    # the first claim's late result does not overwrite the second's
    worker.record(claimed, type(worker.send(claimed))("permanent", "late"), type("R", (), {"dead": 0})())
    assert outbox(db)["email"].status == "sent"


def test_secret_bodies_are_cleared_once_sent(db, engine, seed, email_on, smtp_server):
    member_id = a_member(db, phone=None)
    enqueue(db, "sign_in_code", member_id=member_id, context={"code": "482913", "minutes": 10}, channels=["email"])
    db.commit()
    make_worker(engine, smtp_server.port).cycle()
    row = outbox(db)["email"]
    assert row.status == "sent" and row.body is None and row.html is None
    assert "482913" in smtp_server.messages()[0].get_body(("plain",)).get_content()


def test_marketing_waits_for_quiet_hours_and_carries_a_working_unsubscribe_link(db, engine, seed, email_on,
                                                                                smtp_server):
    member_id = a_member(db, phone=None)
    set_consent(db, member_id, "email", True, source="staff")
    enqueue(db, "birthday", member_id=member_id, context={}, key="2026", channels=["email"])
    db.commit()
    worker = make_worker(engine, smtp_server.port, **{"lps.messages.quiet_hours": "22:00-08:00",
                                                      "lps.timezone": "Asia/Shanghai"})
    # Tomorrow night, 23:30 in Shanghai: after the message was queued (now), so it is due then.
    shanghai = ZoneInfo("Asia/Shanghai")
    night = (datetime.now(shanghai) + timedelta(days=1)).replace(hour=23, minute=30, second=0, microsecond=0)
    morning = (night + timedelta(days=1)).replace(hour=8, minute=0)
    report = worker.cycle(night.astimezone(timezone.utc))
    row = outbox(db)["email"]
    assert report.postponed == 1 and row.status == "queued" and row.tries == 0
    assert as_utc(row.next_attempt_at) == morning.astimezone(timezone.utc)  # the end of the quiet hours
    worker.cycle(morning.astimezone(timezone.utc) + timedelta(minutes=1))
    assert outbox(db)["email"].status == "sent"
    (mail,) = smtp_server.messages()
    token = mail["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert read_token(worker.settings, token) == (member_id, "email")
    assert "/unsubscribe/" in mail.get_body(("plain",)).get_content()
    assert read_token(worker.settings, token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    assert make_token(worker.settings, member_id, "email") == token


def test_withdrawn_consent_cancels_and_the_rate_limit_postpones(db, engine, seed, email_on, smtp_server):
    member_id = a_member(db, phone=None)
    for n in range(3):
        enqueue(db, "tier_changed", member_id=member_id, context={}, key=str(n), channels=["email"])
    db.commit()
    worker = make_worker(engine, smtp_server.port, **{"lps.messages.rate_limit_per_hour": "2"})
    now = datetime.now(timezone.utc)
    report = worker.cycle(now)
    assert (report.sent, report.postponed) == (2, 1) and len(smtp_server.envelopes) == 2
    waiting = db.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued")).one()
    assert as_utc(waiting.next_attempt_at) > now + timedelta(minutes=59)


def test_quiet_hours_across_midnight_and_within_a_day():
    zone = timezone.utc
    at = datetime(2026, 1, 1, 23, 0, tzinfo=zone)
    assert quiet_hours_end(at, (22 * 60, 8 * 60), zone) == datetime(2026, 1, 2, 8, 0, tzinfo=zone)
    assert quiet_hours_end(at.replace(hour=3), (22 * 60, 8 * 60), zone) == datetime(2026, 1, 1, 8, 0, tzinfo=zone)
    assert quiet_hours_end(at.replace(hour=12), (22 * 60, 8 * 60), zone) is None
    assert quiet_hours_end(at.replace(hour=13), (12 * 60, 14 * 60), zone) == datetime(2026, 1, 1, 14, 0, tzinfo=zone)
    assert quiet_hours_end(at, None, zone) is None


def test_a_command_s_sessions_give_the_outbox_the_ini_s_settings_and_channels(tmp_path, database_url, db, seed):
    from lps_core.cli import Environment
    from lps_core.messages.outbox import messages_settings
    from lps_core.testing import TEST_INI_LINES

    ini = tmp_path / "lps.ini"
    ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}"
                   "lps.messages.default_language = en\nlps.plugins.disabled = email\n")
    env = Environment(str(ini))
    member_id = a_member(db)

    def work(session):
        assert messages_settings(session).default_language == "en"
        return enqueue(session, "tier_changed", member_id=member_id, context={"new_tier": "Gold"})

    env.transaction(work)
    rows = outbox(db)
    assert "email" not in rows and rows["inbox"].language == "en"
    env.engine.dispose()
