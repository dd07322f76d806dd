#!/usr/bin/env python3
"""Data for the batch-job benchmarks (`lps jobs expire`, `lps jobs tiers`), generated set-based.

Builds, in a fresh PostgreSQL database migrated with lps_core.db.migrate.upgrade, a programme as it
looks after two years, as of the moment AS_OF:
- hotel BJ with outlet BJREST; tiers classic, silver, gold, diamond (70/20/8/2% of members, with
  points thresholds in `qualification`); card type `standard`;
- N members (default 1,000,000), approved, each with an active card, a points account and the
  card's stored-value account (as approve_member and issue_card leave them);
- 1 to 7 bills per member (4 on average), spread over the 24 months before AS_OF, each with its
  earn entry and points lot expiring 18 months after the bill (so about a quarter of the lots are
  past their date), about 10% of them with 1-4 qualifying nights;
- one debit per member, taken from their oldest lot (as the ledger's oldest-expiring-first rule
  would), for 20-100% of it, with its lot allocation: lots partly or wholly spent;
- member_activity per member and month, and members.last_activity_at, as the earn path keeps them;
- balances equal to the sum of the entries and of the lots' remaining points.

With the default size that is 5,000,000 ledger entries (4M earns + 1M debits). Every row is written
by INSERT ... SELECT over generate_series; ids are assigned here so the tables join without
look-ups, and the sequences are moved past them at the end.

    .venv/bin/python bench/jobs_data.py --database lps_bench_jobs --members 1000000
"""
import argparse
import sys
import time
from datetime import datetime, timezone

ROOT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
AS_OF = datetime(2026, 6, 1, tzinfo=timezone.utc)
TIERS = [  # code, name, rank, multiplier, share of members (%), points to qualify
    ("classic", "Classic", 0, "1", 70, 0),
    ("silver", "Silver", 1, "1.2", 20, 5000),
    ("gold", "Gold", 2, "1.5", 8, 20000),
    ("diamond", "Diamond", 3, "2", 2, 60000),
]
LOT_LIFETIME = "18 months"  # matches lps.points.expiry_months = 18 in the benchmark's ini
HISTORY_DAYS = 730

# Each statement is (what it does, SQL). :as_of, :members and the reference ids are bound.
STEPS = [
    ("earns (staging)", """
        CREATE UNLOGGED TABLE bench_earns AS
        SELECT (row_number() OVER ())::bigint AS id, m AS member_id,
               :as_of - random() * interval '{history} days' AS occurred_at,
               (10 + floor(random() * 490))::bigint AS points,
               CASE WHEN random() < 0.1 THEN 1 + floor(random() * 4)::int ELSE 0 END AS nights
        FROM generate_series(1, :members) AS m, generate_series(1, 1 + (m::bigint * 7919) % 7) AS s
    """),
    ("debits (staging)", """
        CREATE UNLOGGED TABLE bench_debits AS
        SELECT (SELECT max(id) FROM bench_earns) + first.member_id AS id, first.member_id, first.id AS lot_id,
               least(first.points, ceil(first.points * (0.2 + 0.8 * random())))::bigint AS amount,
               first.occurred_at + (least(first.occurred_at + interval '{lifetime}', :as_of) - first.occurred_at)
                   * random() AS occurred_at
        FROM (SELECT DISTINCT ON (member_id) * FROM bench_earns ORDER BY member_id, occurred_at, id) AS first
    """),
    ("members", """
        INSERT INTO members (id, name, phone, email, gender, channel, status, tier_id, created_at, approved_at,
                             tier_since, last_activity_at)
        SELECT m, 'Bench Member ' || m, '+86139' || lpad(m::text, 8, '0'), NULL, 'unspecified', 'desk', 'active',
               CASE WHEN m % 100 < :cut_classic THEN :tier_classic WHEN m % 100 < :cut_silver THEN :tier_silver
                    WHEN m % 100 < :cut_gold THEN :tier_gold ELSE :tier_diamond END,
               a.first_at - interval '30 days', a.first_at - interval '30 days', a.first_at - interval '30 days',
               a.last_at
        FROM generate_series(1, :members) AS m
        JOIN (SELECT member_id, min(occurred_at) AS first_at, max(occurred_at) AS last_at
              FROM bench_earns GROUP BY member_id) AS a ON a.member_id = m
    """),
    ("cards", """
        INSERT INTO cards (id, card_no, card_type_id, member_id, status, created_at, issued_at)
        SELECT id, '8800' || lpad(id::text, 12, '0'), :card_type, id, 'active', approved_at, approved_at
        FROM members
    """),
    ("accounts", """
        INSERT INTO accounts (id, kind, member_id, card_id, balance, created_at)
        SELECT e.member_id, 'points', e.member_id, NULL, e.earned - d.amount, :as_of - interval '{history} days'
        FROM (SELECT member_id, sum(points) AS earned FROM bench_earns GROUP BY member_id) AS e
        JOIN bench_debits AS d ON d.member_id = e.member_id
        UNION ALL
        SELECT :members + id, 'stored_value', NULL, id, 0, :as_of - interval '{history} days' FROM cards
    """),
    ("bills", """
        INSERT INTO bills (id, outlet_id, bill_no, card_id, member_id, amount_cents, items, occurred_at, fingerprint,
                           points, rule_id, qualifying_nights, qualifying_stays, created_at)
        SELECT id, :outlet, 'B' || id, member_id, member_id, points * 100 + floor(random() * 100)::bigint, NULL,
               occurred_at, md5('bill' || id) || md5(member_id::text), points, NULL, nights, (nights > 0)::int,
               occurred_at
        FROM bench_earns
    """),
    ("ledger entries", """
        INSERT INTO ledger_entries (id, account_id, account_kind, kind, amount, balance_after, business_key,
                                    fingerprint, reverses_id, outlet_id, bill_id, occurred_at, created_at, breakdown,
                                    note)
        SELECT id, member_id, 'points', kind, amount,
               sum(amount) OVER (PARTITION BY member_id ORDER BY occurred_at, id), business_key,
               md5(business_key) || md5(id::text), NULL, :outlet, bill_id, occurred_at, occurred_at, NULL, NULL
        FROM (SELECT id, member_id, 'earn' AS kind, points AS amount, 'bill:BJREST:B' || id AS business_key,
                     id AS bill_id, occurred_at FROM bench_earns
              UNION ALL
              SELECT id, member_id, 'debit', -amount, 'bench-debit:' || id, NULL, occurred_at
              FROM bench_debits) AS events
    """),
    ("point lots", """
        INSERT INTO point_lots (id, account_id, entry_id, amount, remaining, expires_at)
        SELECT e.id, e.member_id, e.id, e.points, e.points - coalesce(d.amount, 0),
               e.occurred_at + interval '{lifetime}'
        FROM bench_earns AS e LEFT JOIN bench_debits AS d ON d.lot_id = e.id
    """),
    ("lot allocations", """
        INSERT INTO lot_allocations (entry_id, lot_id, amount) SELECT id, lot_id, amount FROM bench_debits
    """),
    ("member activity", """
        INSERT INTO member_activity (member_id, month, points, spend_cents, nights, stays, bills)
        SELECT member_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date, sum(points),
               sum(amount_cents), sum(qualifying_nights), sum(qualifying_stays), count(*)
        FROM bills GROUP BY 1, 2
    """),
]
SEQUENCED = ("members", "cards", "accounts", "bills", "ledger_entries", "point_lots", "lot_allocations")


def log(message):
    print(message, file=sys.stderr, flush=True)


def admin_execute(server_url, *statements):
    """Run statements that cannot run in a transaction (CREATE/DROP DATABASE) on the server."""
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    admin.dispose()


def recreate_database(server_url, name):
    admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def database_url(server_url, name):
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def generate(url, members=1_000_000, as_of=AS_OF, seed=0.42) -> dict:
    """Migrate the (empty) database at `url` and fill it; returns row counts per table."""
    from decimal import Decimal

    from sqlalchemy import text

    from lps_core.db import get_engine
    from lps_core.db.migrate import upgrade

    engine = get_engine({"sqlalchemy.url": url}, statement_timeout=False)  # bulk statements run long
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL work_mem = '256MB'"))
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        connection.execute(text("SELECT setseed(:seed)"), {"seed": seed})
        params = {"as_of": as_of, "members": members, **_reference_data(connection, as_of, Decimal)}
        for title, sql in STEPS:
            started = time.monotonic()
            result = connection.execute(text(sql.format(history=HISTORY_DAYS, lifetime=LOT_LIFETIME)),
                                        {k: v for k, v in params.items() if f":{k}" in sql})
            log(f"  {title}: {result.rowcount:,} rows, {time.monotonic() - started:.1f}s")
        for table in SEQUENCED:
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
        connection.execute(text("DROP TABLE bench_earns, bench_debits"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        started = time.monotonic()
        connection.execute(text("VACUUM ANALYZE"))
        log(f"  vacuum analyze: {time.monotonic() - started:.1f}s")
        counts = {table: connection.scalar(text(f"SELECT count(*) FROM {table}")) for table in (
            "members", "cards", "accounts", "bills", "ledger_entries", "point_lots", "lot_allocations",
            "member_activity")}
    engine.dispose()
    return counts


def _reference_data(connection, as_of, Decimal) -> dict:
    """Hotel, outlet, tiers and card type; returns the ids and tier cut-offs the bulk steps bind."""
    from sqlalchemy import text

    property_id = connection.scalar(text(
        "INSERT INTO properties (code, name, kind, created_at) VALUES ('BJ', 'Bench Jobs Hotel', 'hotel', :at) "
        "RETURNING id"), {"at": as_of})
    outlet = connection.scalar(text(
        "INSERT INTO outlets (code, name, property_id, active, created_at) "
        "VALUES ('BJREST', 'Bench Jobs Restaurant', :property, true, :at) RETURNING id"),
        {"property": property_id, "at": as_of})
    params, cut = {"outlet": outlet}, 0
    for code, name, rank, multiplier, share, points in TIERS:
        params[f"tier_{code}"] = connection.scalar(text(
            "INSERT INTO tiers (code, name, rank, multiplier, discount_rate, entitlements, qualification) "
            "VALUES (:code, :name, :rank, :multiplier, 0, '[]', :qualification) RETURNING id"),
            {"code": code, "name": name, "rank": rank, "multiplier": Decimal(multiplier),
             "qualification": f'{{"points": {points}}}'})
        cut += share
        params[f"cut_{code}"] = cut
    params["card_type"] = connection.scalar(text(
        "INSERT INTO card_types (code, name, prefix, points_multiplier) "
        "VALUES ('standard', 'Standard member card', '8800', 1) RETURNING id"))
    return params


def check_ledger(url):
    """find_drift over the whole database; returns (drifting accounts, seconds)."""
    from sqlalchemy.orm import Session

    from lps_core.db import get_engine
    from lps_core.ledger.check import find_drift

    engine = get_engine({"sqlalchemy.url": url}, statement_timeout=False)
    started = time.monotonic()
    with Session(engine) as db:
        drift = find_drift(db)
    engine.dispose()
    return drift, time.monotonic() - started



def run_on_generated(argv, description, database, add_data, measure) -> int:
    """The command line the benchmarks built on this programme share: generate --members into a
    fresh `database` (or --database) and add the benchmark's own rows (`add_data(url)`), or time
    the kept one (--reuse); `measure(url, runs)` times and returns the figures, printed as JSON (and
    written to --json); the database is dropped afterwards unless --keep or --reuse.
    --generate-only builds and keeps the database without timing anything (so that generation,
    which takes long, can run niced outside the benchmarks' lock and the timing under it)."""
    import json
    from pathlib import Path

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--server", default=ROOT_SERVER)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="time on the kept database, generate nothing")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--database", default=database, help=f"the database to build or reuse (default {database})")
    parser.add_argument("--generate-only", action="store_true", help="build and keep the database, time nothing")
    args = parser.parse_args(argv)
    database = args.database
    url = database_url(args.server, database)
    if not args.reuse:
        log(f"generating {args.members:,} members into {database}")
        recreate_database(args.server, database)
        counts = generate(url, args.members)
        add_data(url)
        log(f"  {counts}")
    if args.generate_only:
        return 0
    if args.reuse:
        migrate(url)
    try:
        results = measure(url, args.runs)
    finally:
        if not args.keep and not args.reuse:
            admin_execute(args.server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


def migrate(url):
    """Bring a kept database to the current schema (a benchmark reusing one generated earlier)."""
    from lps_core.db import get_engine
    from lps_core.db.migrate import upgrade

    engine = get_engine({"sqlalchemy.url": url}, statement_timeout=False)
    upgrade(engine)
    engine.dispose()


def drop_rfm_scorings(engine):
    """No nightly RFM scoring: the RFM view and segments score live."""
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text("DELETE FROM rfm_scores"))
        connection.execute(text("DELETE FROM rfm_scorings"))


def score_rfm(engine, tz, as_of=None) -> float:
    """`lps jobs rfm` as of `as_of`, by default the day before AS_OF (in tz) as a nightly run
    would: the seconds it took."""
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from lps_core.analytics.scoring import drop_before, score
    from lps_core.analytics.settings import AnalyticsSettings

    started = time.monotonic()
    with Session(engine) as db:
        as_of = as_of or AS_OF.astimezone(tz).date() - timedelta(days=1)
        scoring = score(db, as_of, tz, AnalyticsSettings(), now=AS_OF)
        scoring_id, members = scoring.id, scoring.members
        db.commit()
        drop_before(db, scoring_id)
        db.commit()
    seconds = time.monotonic() - started
    log(f"  lps jobs rfm: {members:,} members scored in {seconds:.1f}s")
    return seconds


def timing(seconds, statements, report) -> dict:
    """One measured view or report: median and slowest time, its statements, its first figures."""
    import statistics

    return {"median_s": round(statistics.median(seconds), 3), "max_s": round(max(seconds), 3),
            "statements": len(statements),
            "figures": {figure.key: str(figure.value) for figure in report.figures[:4]}}

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=ROOT_SERVER, help=f"PostgreSQL server URL (default {ROOT_SERVER})")
    parser.add_argument("--database", default="lps_bench_jobs", help="database to (re)create")
    parser.add_argument("--members", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    recreate_database(args.server, args.database)
    url = database_url(args.server, args.database)
    started = time.monotonic()
    counts = generate(url, args.members)
    log(f"generated in {time.monotonic() - started:.0f}s: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    drift, seconds = check_ledger(url)
    log(f"ledger check: {len(drift)} drifting accounts ({seconds:.1f}s)")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main())
