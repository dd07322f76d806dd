"""The birthday job issues the coupon type named by lps.birthdays.coupon_type with each greeting,
once per member and year."""
from datetime import date, datetime, timezone

from sqlalchemy import select

from lps_core.birthdays.jobs import greet_birthdays
from lps_core.coupons.models import Coupon
from lps_core.coupons.services import TypeSpec, save_type
from lps_core.timeutil import as_utc
from tests.test_birthdays import JobEnvironment, member

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 on 1 June in Shanghai


def test_each_greeted_member_gets_the_birthday_coupon_once(engine, plugins, db, seed):
    save_type(db, TypeSpec("BDAY", "birthday cake", "item", sku="CAKE", value_cents=8800, valid_days=30))
    born_today = member(db, date(1990, 6, 1))
    member(db, date(1990, 7, 1), name="Not Today")
    settings = {"lps.birthdays.coupon_type": "BDAY"}
    for _ in range(2):
        greet_birthdays(JobEnvironment(engine, plugins, **settings), now=NOW)
        db.expire_all()
    coupons = db.scalars(select(Coupon)).all()
    assert [(c.member_id, c.source, c.source_ref) for c in coupons] == [(born_today, "birthday", "2026")]
    # 30 days from the day of issue, ending at midnight in the programme's time zone (16:00 UTC)
    assert as_utc(coupons[0].valid_to) == datetime(2026, 6, 30, 16, 0, tzinfo=timezone.utc)
