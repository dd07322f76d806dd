#!/usr/bin/env python3
"""PostgreSQL alone on the earn request's SQL (bench/earn-sql.pgb), against its TPC-B reference.

Loads members with cards as bench/earn.py does, then alternates pgbench running the earn statements
and ../shared/tools/pgbench-reference, round by round, and checks the ledger afterwards (every
balance the sum of its entries). No Python serves anything while pgbench runs: the figure is what
the SQL itself allows on this machine, the ceiling of bench/earn.py's ratio (bench/README.md).

    .venv/bin/python bench/earn_sql.py [--rounds 3] [--clients 16]
"""
import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import earn  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "earn-sql.pgb"


def postgres_cpu_per_bill(engine, args):
    """PostgreSQL's CPU per transaction while pgbench runs, counted as bench/earn.py counts it over
    HTTP (its own processes and this database's backends), so the two compare. Measured in the
    middle of the run, while pgbench's backends are alive (an exited process's CPU is lost to /proc),
    and divided by the bills written meanwhile."""
    def last_bill():
        with engine.connect() as conn:
            return conn.execute(text("SELECT coalesce(max(id), 0) FROM bills")).scalar_one()

    margin = min(2.0, args.seconds / 4)
    time.sleep(margin)
    before, first = earn.cpu_snapshot({}, args.database), last_bill()
    time.sleep(args.seconds - 2 * margin)
    after, last = earn.cpu_snapshot({}, args.database), last_bill()
    return earn.cpu_delta(after["postgres"], before["postgres"]) * 1000 / max(last - first, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16, help="pgbench connections (16, as bench/earn.py)")
    parser.add_argument("--seconds", type=int, default=30, help="per run, of each tool")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="lps_bench_earn_sql")
    args = parser.parse_args(argv)

    url = earn.database_url(args.server, args.database)
    engine = None
    earn.create_database(args.server, args.database)
    try:
        earn.load_data(url, args.members)
        server = make_url(args.server)
        connect = ["-h", server.host or "127.0.0.1", "-p", str(server.port or 5432), "-U", server.username or "postgres"]
        engine = create_engine(url)
        print(f"{'round':>5} {'earn SQL TPS':>12} {'latency ms':>10} {'PostgreSQL CPU ms/tx':>20} "
              f"{'TPC-B TPS':>9} {'ratio':>6}")
        for round_no in range(1, args.rounds + 1):
            pgbench = subprocess.Popen(["pgbench", *connect, "-n", "-M", "prepared", "-f", str(SCRIPT),
                                        "-D", f"members={args.members}", "-c", str(args.clients), "-j", "2",
                                        "-T", str(args.seconds), args.database],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            cpu_ms = postgres_cpu_per_bill(engine, args)
            stdout, stderr = pgbench.communicate()
            tps = re.search(r"^tps = ([\d.]+)", stdout, re.M)
            latency = re.search(r"^latency average = ([\d.]+)", stdout, re.M)
            if pgbench.returncode or tps is None:
                sys.exit(f"pgbench failed:\n{stdout[-2000:]}{stderr[-2000:]}")
            reference = earn.run_pgbench(args.seconds)
            print(f"{round_no:>5} {float(tps[1]):12.0f} {float(latency[1]):10.1f} {cpu_ms:20.3f} {reference:9.0f} "
                  f"{float(tps[1]) / reference:6.3f}", flush=True)
        checked = earn.verify(url)
        print(f"bills {checked['bills']}, ledger entries {checked['entries']}, "
              f"accounts whose balance is not the sum of their entries: {len(checked['drift'])}")
        return 1 if checked["drift"] else 0
    finally:
        if engine is not None:
            engine.dispose()
        earn.drop_database(args.server, args.database)


if __name__ == "__main__":
    sys.exit(main())
