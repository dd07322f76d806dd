"""Reports mailed to staff: `lps.reports.schedule` read and checked at start-up, each report of
the last whole day or month queued through the outbox once per period and address (however often
the job runs), and delivered by the worker to a real loopback SMTP server with its totals and the
links to the screen and the exports."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from lps_core.cards.models import Card
from lps_core.cashier.models import Settlement
from lps_core.errors import ConfigurationError
from lps_core.messages.models import OutboxMessage
from lps_core.messages.worker import Worker
from lps_core.outlets.models import Outlet
from lps_core.plugins import load_plugins
from lps_core.reports.schedule import due_period, mail_scheduled_reports
from lps_core.reports.settings import ReportSettings, Scheduled
from lps_core.settings import Settings
from lps_core.testing import TEST_SETTINGS

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCHEDULE = "sales daily gm@hotel.example.test fo@hotel.example.test;\npoints monthly finance@hotel.example.test"


def test_the_schedule_setting_is_read_and_checked():
    settings = ReportSettings.from_mapping({"lps.reports.schedule": SCHEDULE, "lps.reports.staff_url": "https://lps/"})
    assert settings.schedule == (
        Scheduled("sales", "daily", ("gm@hotel.example.test", "fo@hotel.example.test")),
        Scheduled("points", "monthly", ("finance@hotel.example.test",)))
    assert settings.staff_url == "https://lps"
    for bad in ("sales weekly gm@hotel.example.test", "nothing daily gm@hotel.example.test", "sales daily gm"):
        with pytest.raises(ConfigurationError, match="lps.reports.schedule"):
            ReportSettings.from_mapping({"lps.reports.schedule": bad})
    for key, value in (("lps.reports.point_value", "0.0.1"), ("lps.reports.point_value", "-1"),
                       ("lps.reports.breakage_months", "0"), ("lps.reports.overdue_days", "x")):
        with pytest.raises(ConfigurationError, match=key):
            ReportSettings.from_mapping({key: value})


def test_the_due_period_is_the_last_whole_day_or_month():
    today = datetime(2026, 3, 1).date()
    assert due_period(Scheduled("sales", "daily", ()), today) == {"period": "day", "date": "2026-02-28"}
    assert due_period(Scheduled("sales", "monthly", ()), today) == {"period": "month", "date": "2026-02"}


def test_each_period_is_mailed_once_per_address_and_delivered(db, engine, seed, smtp_server):
    outlet_id = db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    card_id = db.scalar(select(Card.id).where(Card.card_no == seed.member_card()))
    # 09:30 in Shanghai on the 25th is 01:30 UTC: yesterday's sale for a job running on the 26th there
    db.execute(insert(Settlement).values(
        outlet_id=outlet_id, bill_no="Y1", card_id=card_id, gross_cents=50000, discount_cents=5000,
        charged_cents=45000, earning_basis_cents=45000, points=0, items=[], balances={}, fingerprint="f",
        occurred_at=datetime(2026, 11, 25, 1, 30, tzinfo=timezone.utc)))
    db.commit()
    settings = ReportSettings.from_mapping({"lps.reports.schedule": SCHEDULE,
                                            "lps.reports.staff_url": "https://lps.hotel.example.test"})
    now = datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)  # 01:00 on the 26th in Shanghai
    first = mail_scheduled_reports(db, settings, SHANGHAI, "en", now)
    db.commit()
    assert [(m.report, m.period, m.recipient, m.queued) for m in first] == [
        ("sales", "2026-11-25", "gm@hotel.example.test", True), ("sales", "2026-11-25", "fo@hotel.example.test", True),
        ("points", "2026-10", "finance@hotel.example.test", True)]
    again = mail_scheduled_reports(db, settings, SHANGHAI, "en", now + timedelta(hours=1))
    db.commit()
    assert [m.queued for m in again] == [False, False, False]
    assert len(db.scalars(select(OutboxMessage).where(OutboxMessage.event == "report")).all()) == 3
    assert mail_scheduled_reports(db, settings, SHANGHAI, "en", now, dry_run=True)[0].queued  # says, writes nothing
    db.commit()
    assert len(db.scalars(select(OutboxMessage).where(OutboxMessage.event == "report")).all()) == 3

    seed.switch("channel", "email")
    mapping = {**TEST_SETTINGS, "lps.email.host": "127.0.0.1", "lps.email.port": str(smtp_server.port),
               "lps.email.sender": "loyalty@hotel.example.test", "lps.email.timeout": "5",
               "lps.messages.quiet_hours": "", "lps.messages.rate_limit_per_hour": "0"}
    worker = Worker(lambda: Session(engine, expire_on_commit=False), load_plugins(mapping),
                    Settings.from_mapping(mapping), name="test-worker")
    worker.cycle(now)
    mails = {mail["To"]: mail for mail in smtp_server.messages()}
    assert set(mails) == {"gm@hotel.example.test", "fo@hotel.example.test", "finance@hotel.example.test"}
    sales = mails["gm@hotel.example.test"]
    assert sales["Subject"] == "LPS Sales: 2026-11-25"
    body = sales.get_body(("plain",)).get_content()
    assert "Net charged: 450.00" in body and "Discount: 50.00" in body and "Bills: 1" in body
    assert "https://lps.hotel.example.test/reports/sales?period=day&date=2026-11-25&format=xlsx" in body
