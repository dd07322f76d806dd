#!/usr/bin/env python3
"""How long each member-analytics view takes at programme scale, on PostgreSQL.

Data: bench/jobs_data.py's programme as of 2026-06-01 (by default 1,000,000 members, 4,000,000
bills and 5,000,000 ledger entries over two years, member_activity and last_activity_at as the
earn path keeps them), plus what analytics reads that the builder leaves plain: genders and
birthdays spread over the members, a region for each (31 provinces by member id, as
lps_core.analytics.regions would derive them from the phone numbers), a referrer for one member in
ten, and a web channel and a second outlet for a third of them. Then every view runs over the
twelve months to 2026-06-01 in Asia/Shanghai (each view's default period) and over May 2026 (a
month, rows per day) through the real code (lps_core.analytics.catalogue.run_view on a SQLAlchemy
session), three times; the median, the slowest and the number of statements are printed. RFM also lists its largest quadrant's first page. RFM is timed live (no
scoring kept), then `lps jobs rfm` as of the day before, then RFM again from that scoring.

    flock /tmp/team/bench.lock .venv/bin/python bench/analytics.py                # generate, time, drop
    flock /tmp/team/bench.lock .venv/bin/python bench/analytics.py --keep         # keep lps_bench_analytics
    flock /tmp/team/bench.lock .venv/bin/python bench/analytics.py --reuse        # time on the kept data
    .venv/bin/python bench/analytics.py --members 2000                            # a quick check
"""
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jobs_data  # noqa: E402 (bench/ is not a package)

DATABASE = "lps_bench_analytics"
MONTH = {"period": "month", "date": "2026-05"}  # a month, as the 2 s target is set
PROVINCES = ["北京市", "上海市", "天津市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省",
             "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省",
             "云南省", "陕西省", "甘肃省", "青海省", "内蒙古自治区", "广西壮族自治区", "西藏自治区", "宁夏回族自治区",
             "新疆维吾尔自治区"]
EXTRA = [
    ("a second outlet", """
        INSERT INTO outlets (property_id, code, name, active, created_at)
        SELECT property_id, 'BJSPA', 'Spa', active, created_at FROM outlets WHERE code = 'BJREST'
    """),
    ("members' gender, birthday, channel, outlet, referrer", """
        UPDATE members SET
            gender = (ARRAY['female', 'male', 'female', 'male', 'unspecified'])[1 + id % 5],
            birthday = CASE WHEN id % 9 = 0 THEN NULL ELSE make_date(1950 + (id * 7) % 55, 1 + id % 12, 1 + id % 28) END,
            channel = CASE WHEN id % 3 = 0 THEN 'web' ELSE 'desk' END,
            enrolled_outlet_id = (SELECT id FROM outlets WHERE code = CASE WHEN id % 3 = 0 THEN 'BJSPA' ELSE 'BJREST' END),
            referred_by_id = CASE WHEN id % 10 = 0 AND id > 10 THEN id - 1 - (id * 13) % (id / 2) END
    """),
    ("regions", """
        INSERT INTO member_regions (member_id, province, city)
        SELECT id, (CAST(:provinces AS text[]))[1 + id % 31], (CAST(:provinces AS text[]))[1 + id % 31] FROM members WHERE id % 17 <> 0
    """),
]


def add_analytics_data(url):
    from sqlalchemy import text

    from lps_core.db import get_engine

    engine = get_engine({"sqlalchemy.url": url}, statement_timeout=False)
    with engine.begin() as connection:
        for title, sql in EXTRA:
            started = time.monotonic()
            params = {"provinces": PROVINCES} if ":provinces" in sql else {}
            result = connection.execute(text(sql), params)
            jobs_data.log(f"  {title}: {result.rowcount:,} rows, {time.monotonic() - started:.1f}s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE members, member_regions, outlets"))
    engine.dispose()


def time_views(url, runs) -> dict:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from lps_core.analytics.catalogue import VIEWS, run_view
    from lps_core.analytics.schemas import AnalyticsFilters
    from lps_core.analytics.settings import AnalyticsSettings
    from lps_core.db import get_engine
    from lps_core.reports.settings import ReportSettings

    engine = get_engine({"sqlalchemy.url": url}, statement_timeout=False)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    tz, settings, report_settings = ZoneInfo("Asia/Shanghai"), AnalyticsSettings(), ReportSettings()
    today, now = jobs_data.AS_OF.date(), jobs_data.AS_OF
    runs_of = [(name, {}) for name in VIEWS] + [("rfm", {"quadrant": "keep"}), ("new-members", {"group_by": "week"})]
    runs_of += [(name, MONTH) for name in VIEWS]
    jobs_data.drop_rfm_scorings(engine)
    results = {}
    for name, extra in runs_of + [("scoring", {}), ("rfm", {}), ("rfm", {"quadrant": "keep"})]:
        if name == "scoring":  # then RFM again, from the nightly scoring
            results["lps jobs rfm"] = {"seconds": round(jobs_data.score_rfm(engine, tz), 3)}
            continue
        filters = AnalyticsFilters.model_validate(extra)
        seconds = []
        for _ in range(runs):
            statements.clear()
            with Session(engine) as db:
                started = time.monotonic()
                report = run_view(db, name, filters, tz, settings, report_settings, today=today, now=now)
                seconds.append(time.monotonic() - started)
        label = name + "".join(f" {key}={value}" for key, value in extra.items())
        label += " (nightly scoring)" if "lps jobs rfm" in results else ""
        results[label] = jobs_data.timing(seconds, statements, report)
        jobs_data.log(f"  {label}: median {results[label]['median_s']}s, slowest {results[label]['max_s']}s, "
                      f"{results[label]['statements']} statements; {results[label]['figures']}")
    engine.dispose()
    return results


def main(argv=None):
    return jobs_data.run_on_generated(argv, __doc__.split("\n\n")[0], DATABASE, add_analytics_data, time_views)

if __name__ == "__main__":
    sys.exit(main())
