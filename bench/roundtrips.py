#!/usr/bin/env python3
"""Count the database round trips of one POST /api/v1/transactions, and time the app in-process.

Builds the app from production.ini (via bench/earn.py's temp ini) on a fresh database, posts bills
through WebTest (no HTTP server), and logs every statement the request sends, including BEGIN,
COMMIT and the pool's pre-ping. Then times N sequential requests: the app's own cost per request
with no network, no waitress and no concurrency.

    .venv/bin/python bench/roundtrips.py [--requests 500]

With --instructions it runs itself under valgrind's callgrind and counts the CPU instructions of
the N requests instead (after 100 more to warm up): a figure that does not move with what else
the machine runs, for comparing two versions of the code (apt-get install valgrind; about a
minute for 200 requests).
"""
import argparse
import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import earn  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--server", default=os.environ.get("LPS_BENCH_SERVER",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--database", default="lps_bench_roundtrips")
    parser.add_argument("--ini", type=Path, default=earn.PRODUCTION_INI, help="config (config/production.ini)")
    parser.add_argument("--profile", action="store_true", help="print the top functions (cProfile) of the timed loop")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override an [app:main] setting (repeatable)")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under callgrind instead of timing (try --requests 200)")
    args = parser.parse_args(argv)
    counting = args.instructions and os.environ.get(UNDER_CALLGRIND) == "1"
    if args.instructions and not counting:
        return count_instructions(args, sys.argv[1:] if argv is None else argv)

    from pyramid.paster import get_app
    from sqlalchemy import event
    from sqlalchemy.engine import make_url
    from webtest import TestApp

    from lps_core.testing import round_trips

    url = make_url(args.server).set(database=args.database).render_as_string(hide_password=False)
    tmp = tempfile.mkdtemp(prefix="lps-roundtrips-")
    earn.create_database(args.server, args.database)
    try:
        key, cards = earn.load_data(url, 50)
        ini = earn.write_ini(tmp, None, url, args.ini, settings=args.set)
        os.environ["LPS_DATABASE_URL"] = url  # newer configs take it (and the secret) from the environment
        os.environ.setdefault("LPS_SESSION_SECRET", earn.BENCH_SECRET)
        wsgi = get_app(f"{ini}#main", options={"http_port": "0"})
        app = TestApp(wsgi)
        engine = get_registry_engine(wsgi)
        statements = []

        @event.listens_for(engine, "before_cursor_execute")
        def _sql(conn, cursor, statement, parameters, context, executemany):
            statements.append(" ".join(statement.split())[:110])

        @event.listens_for(engine, "begin")
        def _begin(conn):
            statements.append("BEGIN (sent with the first statement: lps_core.db.begin)")

        @event.listens_for(engine, "commit")
        def _commit(conn):
            statements.append("COMMIT")

        @event.listens_for(engine, "rollback")
        def _rollback(conn):
            statements.append("ROLLBACK (reset on return; free if idle)")

        @event.listens_for(engine.pool, "checkout")
        def _checkout(dbapi_conn, record, proxy):
            statements.append("pool checkout (a 'SELECT 1' round trip only if pool_pre_ping is on)")

        headers = {"Authorization": f"Bearer {key}"}

        def post(n):
            return app.post_json("/api/v1/transactions", {"card_no": cards[n % len(cards)], "bill_no": f"rt-{n}",
                                                         "amount": "123.45"}, headers=headers, status=201)

        post(0)  # warm: fills the API-key cache and SQLAlchemy's compiled cache
        statements.clear()
        post(1)
        print("statements of one earn request (API key already cached):")
        for s in statements:
            print("  ", s)
        sent = sum(1 for s in statements if not s.startswith(("ROLLBACK", "pool checkout")))
        # Counted from libpq's trace of the protocol: each ReadyForQuery is one wait for PostgreSQL.
        with round_trips(engine) as lines:
            post(2)
        trips = sum("ReadyForQuery" in line for line in lines)
        print(f"{sent} statements with BEGIN and COMMIT, {trips} round trips per request "
              f"(pre-ping {'on' if engine.pool._pre_ping else 'off'})")
        print(f"interpreter: {earn.interpreter()}")

        event.remove(engine, "before_cursor_execute", _sql)
        if counting:  # warm, then count only the measured requests
            for n in range(args.requests + 3, args.requests + 103):
                post(n)
            callgrind_control("on")
        # Timed by CPU, not the wall clock: waiting for PostgreSQL is not the app's cost.
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for n in range(3, args.requests + 3):
            post(n)
        if profiler:
            profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if counting:
            callgrind_control("off")
            engine.dispose()
            return
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("LPS_PROFILE_SORT", "tottime")).print_stats(int(os.environ.get("LPS_PROFILE_TOP", "25")))
        print(f"{args.requests} sequential in-process requests: {elapsed / args.requests * 1000:.2f} ms each "
              f"({args.requests / elapsed:.0f} req/s on one thread, no HTTP server); "
              f"Python CPU {cpu / args.requests * 1000:.2f} ms each (WebTest included)")
        engine.dispose()
    finally:
        earn.drop_database(args.server, args.database)
        shutil.rmtree(tmp, ignore_errors=True)


UNDER_CALLGRIND = "LPS_BENCH_UNDER_CALLGRIND"


def count_instructions(args, argv):
    """Run this script again under callgrind, collecting only while the timed requests run."""
    if not shutil.which("valgrind"):
        sys.exit("--instructions needs valgrind: apt-get install valgrind")
    out = Path(tempfile.mkdtemp(prefix="lps-callgrind-")) / "callgrind.out"
    try:
        run = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                              sys.executable, __file__, *argv], env={**os.environ, UNDER_CALLGRIND: "1"},
                             stderr=subprocess.PIPE, text=True)
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    collected = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode or collected is None:
        sys.exit(f"callgrind failed:\n{run.stderr[-3000:]}")
    total = int(collected.group(1))
    print(f"{args.requests} sequential in-process requests under callgrind: {total / args.requests / 1e6:.3f} "
          f"million instructions each (WebTest included)")
    return 0


def callgrind_control(switch):
    subprocess.run(["callgrind_control", "--instr=" + switch, str(os.getpid())], check=True, capture_output=True)


def get_registry_engine(wsgi):
    registry = getattr(wsgi, "registry", None)
    while registry is None and hasattr(wsgi, "application"):
        wsgi = wsgi.application
        registry = getattr(wsgi, "registry", None)
    return registry["db_engine"]


if __name__ == "__main__":
    main()
