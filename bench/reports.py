#!/usr/bin/env python3
"""How long each report takes for a month at programme scale, on PostgreSQL.

Data: bench/jobs_data.py's programme as of 2026-06-01 (by default 1,000,000 members, 4,000,000
bills and 5,000,000 ledger entries over two years), plus, for the last month (May 2026), a
settlement carrying each of that month's bills: 10% discount, paid half in cash and half by bank
card (two tenders), two items each. Then every report runs for the month of May 2026 in
Asia/Shanghai through the real code (lps_core.reports.catalogue.run_report on a SQLAlchemy
session), three times; the median, the slowest and the number of statements are printed.

    flock /tmp/team/bench.lock .venv/bin/python bench/reports.py                  # generate, time, drop
    flock /tmp/team/bench.lock .venv/bin/python bench/reports.py --keep           # keep lps_bench_reports
    flock /tmp/team/bench.lock .venv/bin/python bench/reports.py --reuse          # time on the kept data
    .venv/bin/python bench/reports.py --members 2000                              # a quick check
"""
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jobs_data  # noqa: E402 (bench/ is not a package)

DATABASE = "lps_bench_reports"
REPORTS = ("sales", "points", "stored-value", "credit", "transactions", "products")
SETTLEMENTS = [
    ("settlements", """
        INSERT INTO settlements (outlet_id, bill_no, card_id, member_id, gross_cents, discount_cents, charged_cents,
                                 earning_basis_cents, points, bill_id, items, balances, fingerprint, operator,
                                 occurred_at, created_at)
        SELECT outlet_id, bill_no, card_id, member_id, amount_cents + amount_cents / 9, amount_cents / 9, amount_cents,
               amount_cents, points, id,
               json_build_array(
                   json_build_object('sku', 'SKU' || (id % 50), 'category', 'cat' || (id % 7), 'qty', '1',
                                     'amount', to_char((amount_cents / 2 + amount_cents / 18) / 100.0, 'FM999999990.00'),
                                     'discount', to_char((amount_cents / 18) / 100.0, 'FM999999990.00'),
                                     'charged', to_char((amount_cents / 2) / 100.0, 'FM999999990.00')),
                   json_build_object('sku', 'SKU' || (id % 13 + 50), 'category', 'cat' || (id % 3), 'qty', '2',
                                     'amount', to_char((amount_cents - amount_cents / 2 + amount_cents / 9
                                                        - amount_cents / 18) / 100.0, 'FM999999990.00'),
                                     'discount', to_char((amount_cents / 9 - amount_cents / 18) / 100.0,
                                                         'FM999999990.00'),
                                     'charged', to_char((amount_cents - amount_cents / 2) / 100.0, 'FM999999990.00'))),
               '{}'::json, md5('settlement' || id), 'bench', occurred_at, occurred_at
        FROM bills WHERE occurred_at >= '2026-05-01' AND occurred_at < '2026-06-01'
    """),
    ("tenders", """
        INSERT INTO settlement_tenders (settlement_id, position, kind, amount_cents)
        SELECT id, 1, 'cash', charged_cents / 2 FROM settlements
        UNION ALL
        SELECT id, 2, 'bank_card', charged_cents - charged_cents / 2 FROM settlements
    """),
]


def add_settlements(url):
    from sqlalchemy import text

    from lps_core.db import get_engine

    engine = get_engine({"sqlalchemy.url": url}, statement_timeout=False)
    with engine.begin() as connection:
        for title, sql in SETTLEMENTS:
            started = time.monotonic()
            result = connection.execute(text(sql))
            jobs_data.log(f"  {title}: {result.rowcount:,} rows, {time.monotonic() - started:.1f}s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE settlements, settlement_tenders"))
    engine.dispose()


def time_reports(url, runs) -> dict:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from lps_core.db import get_engine
    from lps_core.reports.catalogue import run_report
    from lps_core.reports.schemas import TransactionFilters
    from lps_core.reports.settings import ReportSettings

    engine = get_engine({"sqlalchemy.url": url}, statement_timeout=False)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    tz, settings = ZoneInfo("Asia/Shanghai"), ReportSettings.from_mapping({})
    filters = TransactionFilters.model_validate({"period": "month", "date": "2026-05"})
    results = {}
    for name in REPORTS:
        seconds = []
        for _ in range(runs):
            statements.clear()
            with Session(engine) as db:
                started = time.monotonic()
                report = run_report(db, name, filters, tz, settings)
                seconds.append(time.monotonic() - started)
        results[name] = jobs_data.timing(seconds, statements, report)
        jobs_data.log(f"  {name}: median {results[name]['median_s']}s, slowest {results[name]['max_s']}s, "
                      f"{results[name]['statements']} statements; {results[name]['figures']}")
    engine.dispose()
    return results


def main(argv=None):
    return jobs_data.run_on_generated(argv, __doc__.split("\n\n")[0], DATABASE, add_settlements, time_reports)

if __name__ == "__main__":
    sys.exit(main())
