#!/usr/bin/env python3
"""Benchmark of segment counts (lps_core.marketing.segments) at 1M members on PostgreSQL.

Generates the programme of bench/jobs_data.py (1M members, 4M bills over two years, member_activity,
last visits) into a database, or reuses it with --reuse, then adds what segments filter on and the
job data lacks: birthdays and genders, e-mail consent for about half the members, item lines with a
category on a tenth of the bills. Then it counts each segment of SEGMENTS as the segment's page
does (lps_core.marketing.segments.count), five times, and prints the median and the slowest time in
seconds with the count.

    flock /tmp/team/bench.lock .venv/bin/python bench/segments.py              # generate, then time
    flock /tmp/team/bench.lock .venv/bin/python bench/segments.py --reuse      # time only
    flock /tmp/team/bench.lock .venv/bin/python bench/segments.py --reuse --add-extras  # extras, then time

One kept programme serves this benchmark and bench/analytics.py: build it once, niced, outside the
lock (`nice -n 19 .venv/bin/python bench/analytics.py --database lps_bench_members --generate-only`),
then `--database lps_bench_members --reuse --add-extras` here adds this benchmark's rows (once).
"""
import argparse
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jobs_data  # noqa: E402  (bench/ is not a package)

DATABASE = "lps_bench_segments"
SEGMENTS = {
    "everyone (active, dormant)": {},
    "gold or diamond": {"tiers": ["gold", "diamond"]},
    "born in June, female": {"birthday_months": [6], "genders": ["female"]},
    "visited in 30 days": {"visited_within_days": 30},
    "absent 180 days": {"absent_days": 180},
    "4+ visits, 1,000.00+ in 12 months": {"visits_min": 4, "spend_min": "1000.00"},
    "e-mail consent, gold": {"consent": ["email"], "tiers": ["gold"]},
    "visited BJREST in 3 months": {"visited_outlets": ["BJREST"], "window_months": 3},
    "bought wine in 12 months": {"categories": ["wine"]},
    "card type standard, silver, consent": {"card_types": ["standard"], "tiers": ["silver"], "consent": ["email"]},
    "churn risk (the churn warning's members)": {"churn_risk": True},
    "RFM quadrant keep": {"rfm_quadrants": ["keep"]},
}
RFM = "RFM quadrant keep"
CHURN = "churn risk (the churn warning's members)"
NIGHTLY = (RFM, CHURN)  # timed live, then with `lps jobs rfm`'s scoring

EXTRAS = [
    ("birthdays and genders", """
        UPDATE members SET birthday = date '1960-01-01' + ((id::bigint * 7919) % 15000)::int,
                           gender = CASE WHEN id % 2 = 0 THEN 'female' ELSE 'male' END"""),
    ("e-mail consent", """
        INSERT INTO message_consents (member_id, channel, granted, source, changed_at)
        SELECT id, 'email', true, 'staff', now() FROM members WHERE id % 2 = 0"""),
    ("item lines", """
        UPDATE bills SET items = json_build_array(json_build_object(
               'sku', 'S' || (id % 50), 'category', CASE WHEN id % 3 = 0 THEN 'wine' ELSE 'food' END, 'qty', '1',
               'amount', to_char(amount_cents / 100.0, 'FM999999990.00')))
        WHERE id % 10 = 0"""),  # the lines as the earn path writes them
]


def add_extras(url):
    from sqlalchemy import text

    from lps_core.db import get_engine

    engine = get_engine({"sqlalchemy.url": url}, statement_timeout=False)
    with engine.begin() as connection:
        for title, sql in EXTRAS:
            started = time.monotonic()
            result = connection.execute(text(sql))
            jobs_data.log(f"  {title}: {result.rowcount:,} rows, {time.monotonic() - started:.1f}s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def time_segments(url, repeat=5) -> list:
    from sqlalchemy.orm import Session

    from lps_core.db import get_engine
    from lps_core.marketing.schemas import SegmentDefinition
    from lps_core.marketing.segments import check_definition, count

    engine = get_engine({"sqlalchemy.url": url}, statement_timeout=False)  # a slow segment is a figure, not an error
    tz, now = ZoneInfo("Asia/Shanghai"), jobs_data.AS_OF
    jobs_data.drop_rfm_scorings(engine)
    rows = []
    with Session(engine) as db:
        nightly = [(f"{title} (nightly scoring)", SEGMENTS[title]) for title in NIGHTLY]
        for title, raw in [*SEGMENTS.items(), ("scoring", None), *nightly]:
            if raw is None:  # then the segments that read the nightly scoring, again
                db.commit()
                # As of AS_OF's own day: AS_OF is a month's first day, when the night's scoring
                # (yesterday's) has another window than today's and the churn condition is live.
                jobs_data.score_rfm(engine, tz, as_of=now.astimezone(tz).date())
                continue
            definition = SegmentDefinition.model_validate(raw)
            check_definition(db, definition)
            times, found = [], None
            for _ in range(repeat):
                started = time.monotonic()
                found = count(db, definition, now, tz)  # as the segment's page counts it
                times.append(time.monotonic() - started)
                db.rollback()
            rows.append((title, found, statistics.median(times), max(times)))
            print(f"{title:40} {found:>9,} members  median {statistics.median(times):.3f}s  max {max(times):.3f}s",
                  flush=True)
    engine.dispose()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="the database is there already")
    parser.add_argument("--add-extras", action="store_true", help="with --reuse: add the extras (once) first")
    parser.add_argument("--server", default=jobs_data.ROOT_SERVER)
    parser.add_argument("--database", default=DATABASE, help=f"the database to build or reuse (default {DATABASE})")
    parser.add_argument("--repeat", type=int, default=5, help="times each segment is counted")
    args = parser.parse_args(argv)
    url = jobs_data.database_url(args.server, args.database)
    if not args.reuse:
        jobs_data.log(f"generating {args.members:,} members into {args.database}")
        jobs_data.recreate_database(args.server, args.database)
        jobs_data.generate(url, args.members)
    if args.reuse:
        jobs_data.migrate(url)
    if not args.reuse or args.add_extras:
        add_extras(url)
    time_segments(url, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
