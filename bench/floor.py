"""What a request costs before LPS's own code: the floor under bench/earn.py's figures.

Serves four minimal apps in turn with waitress (8 threads, as config/production.ini) and drives
each with wrk as bench/earn.py does (16 keep-alive connections, a JSON bill posted each time):

- wsgi: a bare WSGI function that reads the JSON body and answers 201 with JSON;
- pyramid: a Pyramid route and view with the JSON renderer, nothing else;
- psycopg: that view, plus one transaction on PostgreSQL per request, BEGIN, two `SELECT 1` and
  COMMIT with psycopg alone (a connection per thread): the four round trips of an earn request;
- sqlalchemy: the same transaction through a SQLAlchemy engine and its pool (10 + 10).

For each it prints requests a second, latency and the server processes' CPU per request (user +
system, from /proc). `--processes 2` serves each app from two processes behind nginx. What LPS's
earn request costs above the last app is LPS's own code; what the last app costs bounds what any
Pyramid + SQLAlchemy app on waitress could reach on this machine (bench/README.md).

    .venv/bin/python bench/floor.py [--apps wsgi,pyramid,psycopg,sqlalchemy] [--threads 8,2]
                                    [--processes 2] [--pgbench-seconds 20]

Needs wrk (apt-get install wrk) and, for the last two, PostgreSQL (--server).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from earn import (WRK_REPORT, Processes, free_port, make_tmp, process_cpu, run_pgbench, start_nginx,  # noqa: E402
                  wait_ready, wrk)

APPS = ("wsgi", "pyramid", "psycopg", "sqlalchemy")

WRK_BODY = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
init = function(args) statuses = {} end
request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/v1/transactions", nil,
    string.format('{"card_no":"C0000001","bill_no":"F-%%d","amount":"123.45"}', counter))
end
"""

# WRK_REPORT's done() reads each thread's status counts, so setup() keeps the threads; its
# format strings are %-escaped for bench/earn.py's templates.
WRK_SCRIPT = ("""
local threads = {}
setup = function(thread) table.insert(threads, thread) end
""" + WRK_BODY + WRK_REPORT) % {}


def wsgi_app(environ, start_response):
    if environ["REQUEST_METHOD"] == "GET":  # bench/earn.py's wait_ready asks for the API's schema
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    out = json.dumps({"bill_no": json.loads(body)["bill_no"], "points": 123}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]


def pyramid_app(transaction=None):
    from pyramid.config import Configurator

    def post(request):
        bill = request.json_body
        if transaction is not None:
            transaction()
        request.response.status = 201
        return {"bill_no": bill["bill_no"], "points": 123}

    config = Configurator()
    config.add_route("transactions", "/api/v1/transactions")
    config.add_view(post, route_name="transactions", renderer="json", request_method="POST")
    config.add_route("schema", "/api/v1/openapi.json")  # what bench/earn.py's wait_ready asks for
    config.add_view(lambda request: {}, route_name="schema", renderer="json")
    return config.make_wsgi_app()


def psycopg_transaction(url):
    import threading

    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    local = threading.local()

    def transaction():
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(conninfo)
        with conn.transaction():
            conn.execute("SELECT 1").fetchone()
            conn.execute("SELECT 1").fetchone()

    return transaction


def sqlalchemy_transaction(url):
    import sqlalchemy as sa

    engine = sa.create_engine(url, pool_size=10, max_overflow=10)
    select_one = sa.text("SELECT 1")

    def transaction():
        with engine.begin() as conn:
            conn.execute(select_one).scalar()
            conn.execute(select_one).scalar()

    return transaction


def serve(app_name, port, threads, url):
    import logging

    import waitress

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # as config/production.ini
    if app_name == "wsgi":
        app = wsgi_app
    elif app_name == "pyramid":
        app = pyramid_app()
    else:
        app = pyramid_app({"psycopg": psycopg_transaction, "sqlalchemy": sqlalchemy_transaction}[app_name](url))
    waitress.serve(app, listen=f"127.0.0.1:{port}", threads=threads, _quiet=True)


def measure(app_name, threads, args, tmp):
    """Serves the app (behind nginx when --processes > 1) and drives it; CPU is the app processes'."""
    procs = Processes()
    try:
        backends = [free_port() for _ in range(args.processes)]
        pids = []
        for port in backends:
            log_path = Path(tmp) / f"{app_name}-{threads}-{port}.log"
            proc = procs.start([sys.executable, __file__, "--serve", app_name, "--port", str(port),
                                "--threads", str(threads), "--server", args.server], log_path)
            wait_ready(port, proc, log_path)
            pids.append(proc.pid)
        port = backends[0]
        if args.processes > 1:
            port = free_port()
            start_nginx(procs, tmp, port, backends)
        wrk(tmp, port, WRK_SCRIPT, "floor-warmup", args.clients, args.warmup, ok_status=201)
        cpu_before, started = sum(map(process_cpu, pids)), time.monotonic()
        result = wrk(tmp, port, WRK_SCRIPT, "floor", args.clients, args.seconds, ok_status=201)
        cpu = sum(map(process_cpu, pids)) - cpu_before
        elapsed = time.monotonic() - started
    finally:
        procs.stop_all()
    return {**result, "cores": cpu / elapsed, "cpu_ms": cpu * 1000 / max(result["requests"], 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default=",".join(APPS), help="comma-separated, from " + ", ".join(APPS))
    parser.add_argument("--threads", default="8", help="waitress threads, comma-separated to compare (8)")
    parser.add_argument("--processes", type=int, default=1,
                        help="waitress processes; above 1 they are served behind nginx, as bench/earn.py's nginx mode")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole set, alternating (1)")
    parser.add_argument("--pgbench-seconds", type=int, default=0,
                        help="run the pgbench reference after, for ratios (0: skip)")
    parser.add_argument("--server", help="PostgreSQL URL the psycopg and sqlalchemy apps connect to (as bench/earn.py's)",
                        default=os.environ.get("LPS_BENCH_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--serve", choices=APPS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, int(args.threads), args.server)
        return 0
    apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    unknown = sorted(set(apps) - set(APPS))
    if unknown:
        parser.error(f"--apps: unknown {', '.join(unknown)}; choose from {', '.join(APPS)}")
    thread_counts = [int(t) for t in args.threads.split(",")]
    tmp = make_tmp()
    rows = []
    for round_no in range(1, args.rounds + 1):
        for app_name in apps:
            for threads in thread_counts:
                print(f"[{app_name}, {threads} threads, round {round_no}] measuring {args.seconds} s", flush=True)
                rows.append((app_name, threads, round_no, measure(app_name, threads, args, tmp)))
    tps = run_pgbench(args.pgbench_seconds) if args.pgbench_seconds else None
    served = f"{args.processes} waitress processes behind nginx" if args.processes > 1 else "one waitress process"
    print(f"machine: {os.cpu_count()} cores; {served}; wrk on the same machine, {args.clients} connections; "
          "cores and CPU are the waitress processes'")
    print(f"{'app':<11} {'threads':>7} {'round':>5} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'errors':>6} {'cores':>5} {'CPU ms/req':>10} {'ratio':>6}")
    for app_name, threads, round_no, r in rows:
        ratio = f"{r['rps'] / tps:.3f}" if tps else "-"
        print(f"{app_name:<11} {threads:>7} {round_no:>5} {r['rps']:>7.0f} {r['p50']:>7.1f} {r['p99']:>7.1f} "
              f"{r['errors']:>6} {r['cores']:>5.2f} {r['cpu_ms']:>10.3f} {ratio:>6}")
    if tps:
        print(f"pgbench-reference: {tps:.0f} TPS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
