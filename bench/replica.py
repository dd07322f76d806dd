#!/usr/bin/env python3
"""Reports on a streaming replica: what a report loop costs the tills, on the replica and on the primary.

Sets up a streaming replica of the local PostgreSQL cluster (a second cluster on another port, in a
temporary directory, made with pg_basebackup -R, streaming through a replication slot of its own),
then runs bench/earn.py in nginx mode (two waitress processes behind nginx) with
`lps.reports.database_url` naming the replica, while a report (points issued per outlet and day,
over the ledger) runs in a loop through LPS's reports session (lps_core.db) on the replica; then
again with that loop on the primary. It prints both earn figures side by side, with the report
loop's iterations, and removes the replica afterwards, also on Ctrl-C: it stops it, deletes its
directory and drops its slot. See bench/README.md.

Runs as root (server commands run as the `postgres` OS user through runuser). When the primary's
pg_hba.conf allows no replication connection from 127.0.0.1, one line is added for the run and
taken out again at the end.

    .venv/bin/python bench/replica.py
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EARN = ROOT / "bench" / "earn.py"
HBA_MARK = "# added by lps bench/replica.py for one run; it takes it out again"
HBA_LINE = f"host replication postgres 127.0.0.1/32 trust  {HBA_MARK}\n"
REPLICA_NAME = "lps_bench_replica"  # its cluster_name (application_name on the primary) and its slot


INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(number, frame):
    raise KeyboardInterrupt


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(args, **kwargs):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs)


def as_postgres(args, **kwargs):
    """A server command as the postgres OS user."""
    return run(["runuser", "-u", "postgres", "--", *args], **kwargs)


def port_is_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# ---------------------------------------------------------------- the primary


class Primary:
    """The local cluster: SQL through an autocommit engine, and its pg_hba.conf line for the run."""

    def __init__(self, server_url):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.url = make_url(server_url)
        self.engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
        self.hba_file = None

    def scalar(self, sql, **params):
        from sqlalchemy import text

        with self.engine.connect() as connection:
            return connection.scalar(text(sql), params)

    def settings(self, *names):
        from sqlalchemy import text

        with self.engine.connect() as connection:
            return dict(connection.execute(text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
                                           {"names": list(names)}).all())

    def allows_replication(self):
        probe = subprocess.run(["psql", f"host={self.url.host} port={self.url.port or 5432} user=postgres "
                                "replication=true dbname=postgres", "-c", "IDENTIFY_SYSTEM"],
                               capture_output=True, text=True)
        return probe.returncode == 0

    def allow_replication(self):
        """Add the one pg_hba.conf line the run needs, unless replication connections work already."""
        self._take_out_stale_line()
        if self.allows_replication():
            return
        self.hba_file = Path(self.scalar("SHOW hba_file"))
        with self.hba_file.open("a") as f:
            f.write(HBA_LINE)
        self.scalar("SELECT pg_reload_conf()")
        log(f"added to {self.hba_file}: {HBA_LINE.strip()}")
        deadline = time.monotonic() + 10
        while not self.allows_replication():
            if time.monotonic() > deadline:
                raise RuntimeError(f"replication connections are still refused after adding a line to {self.hba_file}")
            time.sleep(0.2)

    def restore_hba(self):
        if self.hba_file is not None:
            self._remove_marked_lines(self.hba_file)
            self.scalar("SELECT pg_reload_conf()")
            log(f"took the line out of {self.hba_file} again")
            self.hba_file = None

    def _take_out_stale_line(self):
        """A run killed with SIGKILL left its line: take it out first."""
        hba_file = Path(self.scalar("SHOW hba_file"))
        if HBA_MARK in hba_file.read_text():
            self._remove_marked_lines(hba_file)
            self.scalar("SELECT pg_reload_conf()")
            log(f"took a line left by an earlier run out of {hba_file}")

    @staticmethod
    def _remove_marked_lines(hba_file):
        text = hba_file.read_text()
        kept = "".join(line for line in text.splitlines(keepends=True) if HBA_MARK not in line)
        if kept != text:
            with hba_file.open("w") as f:  # in place: the file keeps its owner and mode
                f.write(kept)

    def dispose(self):
        self.engine.dispose()


# ---------------------------------------------------------------- the replica


class Replica:
    """A hot standby of the primary in a temporary directory, on its own port."""

    def __init__(self, primary, port, pg_bin):
        self.primary, self.port, self.pg_bin = primary, port, Path(pg_bin)
        self.directory = None
        self.data = None
        self.started = False
        self.slot_made = False

    def _slot_is_active(self):
        return self.primary.scalar("SELECT active FROM pg_replication_slots WHERE slot_name = :name",
                                   name=REPLICA_NAME)

    def _drop_stale_slot(self):
        """A run killed with SIGKILL left its slot, which holds WAL on the primary: drop it first."""
        active = self._slot_is_active()
        if active:
            raise RuntimeError(f"the replication slot {REPLICA_NAME} is in use: is another run going on?")
        if active is not None:
            self.primary.scalar("SELECT pg_drop_replication_slot(:name)", name=REPLICA_NAME)
            log(f"dropped the slot {REPLICA_NAME} left by an earlier run")

    def create(self):
        self.directory = Path(tempfile.mkdtemp(prefix="lps-replica-"))
        shutil.chown(self.directory, "postgres", "postgres")
        self.data = self.directory / "data"
        self._drop_stale_slot()
        log(f"pg_basebackup of the primary into {self.data} (a fast checkpoint on the primary first)")
        started = time.monotonic()
        # -C -S: a replication slot, made when the copy starts, keeps the primary's WAL from then on
        # until the replica has streamed it. Without one, a busy primary can recycle the WAL written
        # between the end of the copy and the replica's start, and the replica never catches up.
        # -R writes primary_conninfo and primary_slot_name into the copy.
        self.slot_made = True
        as_postgres([str(self.pg_bin / "pg_basebackup"), "-h", self.primary.url.host, "-p",
                     str(self.primary.url.port or 5432), "-U", "postgres", "-D", str(self.data), "-R",
                     "-X", "stream", "-C", "-S", REPLICA_NAME, "--checkpoint=fast"])
        log(f"copied in {time.monotonic() - started:.1f} s")
        # Debian keeps the primary's configuration in /etc: the copy gets a small one of its own. A hot
        # standby needs these at least as high as the primary's.
        needed = self.primary.settings("max_connections", "max_worker_processes", "max_wal_senders",
                                       "max_prepared_transactions", "max_locks_per_transaction")
        lines = [f"port = {self.port}", "listen_addresses = '127.0.0.1'",
                 f"unix_socket_directories = '{self.directory}'", f"cluster_name = '{REPLICA_NAME}'",
                 "hot_standby = on", "hot_standby_feedback = on",
                 *(f"{name} = {value}" for name, value in sorted(needed.items()))]
        self._write("postgresql.conf", "\n".join(lines) + "\n")
        self._write("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n")
        self._write("pg_ident.conf", "")

    def _write(self, name, text):
        path = self.data / name
        path.write_text(text)
        shutil.chown(path, "postgres", "postgres")
        path.chmod(0o600)

    def start(self, timeout=300):
        log(f"starting the replica on port {self.port}")
        self.started = True
        as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "replica.log"),
                     "-w", "-t", str(timeout), "start"])
        deadline = time.monotonic() + timeout
        while True:
            state = self.primary.scalar("SELECT state FROM pg_stat_replication WHERE application_name = :name",
                                        name=REPLICA_NAME)
            if state == "streaming":
                break
            if time.monotonic() > deadline:
                tail = "".join((self.directory / "replica.log").read_text().splitlines(keepends=True)[-15:])
                raise RuntimeError(f"the replica does not stream (state {state!r}); its log ends:\n{tail}")
            time.sleep(0.2)
        log(f"the replica streams, through the slot {REPLICA_NAME}")

    def url(self, database):
        return self.primary.url.set(port=self.port, database=database).render_as_string(hide_password=False)

    def lag_bytes(self):
        return self.primary.scalar("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication "
                                   "WHERE application_name = :name", name=REPLICA_NAME)

    def remove(self):
        if self.started:
            try:
                as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
                log("stopped the replica")
            except subprocess.CalledProcessError as exc:
                log(f"pg_ctl stop failed: {exc.stderr.strip()}")
            self.started = False
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            log(f"deleted {self.directory}")
            self.directory = None
        if self.slot_made:  # once the replica has let go of it
            for _ in range(100):
                active = self._slot_is_active()
                if active is None:
                    break
                if not active:
                    self.primary.scalar("SELECT pg_drop_replication_slot(:name)", name=REPLICA_NAME)
                    log(f"dropped the slot {REPLICA_NAME}")
                    break
                time.sleep(0.1)
            else:
                log(f"the slot {REPLICA_NAME} is still in use: drop it with pg_drop_replication_slot('{REPLICA_NAME}')")
            self.slot_made = False


# ---------------------------------------------------------------- the report loop


def points_issued_per_outlet_and_day(db, since):
    """A representative report: the points issued per outlet and day since `since`, over the ledger."""
    from sqlalchemy import func, select

    from lps_core.db import reports_session_of
    from lps_core.ledger.models import POINTS, Account, LedgerEntry

    day = func.date_trunc("day", LedgerEntry.occurred_at)
    return reports_session_of(db).execute(
        select(LedgerEntry.outlet_id, day.label("day"), func.count(), func.sum(LedgerEntry.amount))
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(Account.kind == POINTS, LedgerEntry.amount > 0, LedgerEntry.occurred_at >= since)
        .group_by(LedgerEntry.outlet_id, day).order_by(LedgerEntry.outlet_id, day)).all()


class ReportLoop:
    """Runs the report back to back, each time in a new read-only transaction of LPS's reports
    session (lps_core.db.get_reports_engine: the engine of lps.reports.database_url), from `start()`
    until `stop()`."""

    def __init__(self, database_url, reports_url):
        from lps_core.db import get_reports_engine, get_reports_session_factory

        self.engine = get_reports_engine({"sqlalchemy.url": database_url, "lps.reports.database_url": reports_url,
                                          "sqlalchemy.pool_size": "1"})
        self.sessions = get_reports_session_factory(self.engine)
        self.iterations, self.seconds, self.cpu_seconds, self.rows_read, self.error = 0, 0.0, 0.0, 0, None
        self.in_recovery = None
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        from sqlalchemy import text

        from lps_core.timeutil import utcnow

        since = utcnow() - timedelta(days=31)
        started, cpu_started = time.monotonic(), time.process_time()  # this process: the loop's client side
        try:
            while not self._stop.is_set():
                session = self.sessions()
                try:
                    if self.in_recovery is None:
                        self.in_recovery = session.scalar(text("SELECT pg_is_in_recovery()"))
                    rows = points_issued_per_outlet_and_day(session, since)
                finally:
                    session.close()
                self.iterations += 1
                self.rows_read = sum(row[2] for row in rows)
        except Exception as exc:  # reported with the figures
            self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        self.seconds, self.cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)
        self.engine.dispose()


# ---------------------------------------------------------------- one earn run


def earn_run(args, label, tmp, database_url, report_url, settings):
    """bench/earn.py in nginx mode as a child process; the report loop on `report_url` (None: no loop)
    runs while earn.py measures. Returns earn.py's result for nginx, with the loop's figures."""
    out = Path(tmp) / f"earn-{label}.json"
    command = [sys.executable, str(EARN), "--mode", "nginx", "--pgbench-seconds", "0", "--database", args.database,
               "--server", args.server, "--members", str(args.members), "--duration", str(args.duration),
               "--warmup", str(args.warmup), "--clients", str(args.clients), "--json", str(out)]
    for setting in settings:
        command += ["--set", setting]
    log(f"[{label}] {' '.join(command[1:])}")
    # earn.py's own table goes to stderr with its log: stdout is for the figures of this script
    child = subprocess.Popen(command, stdout=sys.stderr, stderr=subprocess.PIPE, text=True, start_new_session=True)
    loop, timer = None, None
    try:
        for line in child.stderr:
            sys.stderr.write(f"  earn: {line}")
            if "measuring" in line and report_url and loop is None:
                loop = ReportLoop(database_url, report_url)
                loop.start()
                timer = threading.Timer(args.duration, loop.stop)
                timer.start()
        child.wait()
    except BaseException:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)  # earn.py cleans up (its database, its servers) on SIGTERM
            try:
                child.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        raise
    finally:
        if timer is not None:
            timer.cancel()
        if loop is not None:
            loop.stop()
    if child.returncode not in (0, 1) or not out.exists():
        raise RuntimeError(f"earn.py failed (exit status {child.returncode})")
    result = json.loads(out.read_text())["results"][0]
    result["report_loop"] = None if loop is None else {
        "iterations": loop.iterations, "seconds": loop.seconds, "cpu_seconds": loop.cpu_seconds, "rows": loop.rows_read,
        "in_recovery": loop.in_recovery, "error": loop.error}
    return result


# ---------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("LPS_BENCH_SERVER",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="a database URL of the primary cluster (its host, port and user are used)")
    parser.add_argument("--port", type=int, default=5433, help="the replica's port (5433)")
    parser.add_argument("--pg-bin", help="PostgreSQL's server binaries (default: /usr/lib/postgresql/<major>/bin)")
    parser.add_argument("--database", default="lps_replica_bench", help="the database earn.py creates (and drops)")
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--duration", type=int, default=20, help="measured seconds of each earn run (20)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--baseline", action="store_true", help="also run earn without a report loop")
    parser.add_argument("--json", help="also write the results here as JSON")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run it as root: it runs PostgreSQL's server commands as the postgres user (runuser)")
    if not port_is_free(args.port):
        parser.error(f"port {args.port} is taken: choose another with --port")

    from sqlalchemy.engine import make_url

    # Ctrl-C, SIGTERM and a closed terminal all end the run through the same clean-up (SIGINT too:
    # a shell starts background jobs with it ignored).
    for number in INTERRUPTS:
        signal.signal(number, _interrupt)
    primary = Primary(args.server)
    major = int(primary.scalar("SHOW server_version_num")) // 10000
    pg_bin = args.pg_bin or f"/usr/lib/postgresql/{major}/bin"
    wal_level = primary.scalar("SHOW wal_level")
    if wal_level not in ("replica", "logical"):
        parser.error(f"the primary's wal_level is {wal_level}: a streaming replica needs replica")
    replica = Replica(primary, args.port, pg_bin)
    database_url = make_url(args.server).set(database=args.database).render_as_string(hide_password=False)
    replica_url = replica.url(args.database)
    tmp = tempfile.mkdtemp(prefix="lps-replica-bench-")
    runs = []
    try:
        primary.allow_replication()
        replica.create()
        replica.start()
        reports_setting = f"lps.reports.database_url={replica_url}"
        plan = [("loop on the replica", replica_url, [reports_setting]),
                ("loop on the primary", database_url, [])]
        if args.baseline:
            plan.append(("no report loop", None, []))
        for label, report_url, settings in plan:
            result = earn_run(args, label.split()[-1], tmp, database_url, report_url, settings)
            result["label"], result["lag_bytes_after"] = label, replica.lag_bytes()
            runs.append(result)
    except KeyboardInterrupt:
        log("interrupted: removing the replica")
        return 130
    finally:
        for number in INTERRUPTS:  # a second Ctrl-C must not cut the clean-up short
            signal.signal(number, signal.SIG_IGN)
        replica.remove()
        primary.restore_hba()
        primary.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, runs)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2, default=str))
    return 0 if all(r["bills_ok"] and not r["drift"] and not (r["report_loop"] or {}).get("error")
                    for r in runs) else 1


def report(args, runs):
    print(f"earn in nginx mode (2 waitress behind nginx), {args.clients} clients, {args.duration} s measured, "
          f"{args.members} members; {os.cpu_count()} cores shared by both clusters, the servers and the load generator")
    print(f"{'report loop':22} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'reports':>8} {'reports/s':>9} "
          f"{'ms each':>8} {'pg cores':>8} {'loop client cores':>17}")
    for r in runs:
        loop = r["report_loop"]
        iterations = loop["iterations"] if loop else 0
        per_second = iterations / loop["seconds"] if loop and loop["seconds"] else 0
        each = 1000 * loop["seconds"] / iterations if iterations else 0
        postgres = (r.get("cpu") or {}).get("postgres", "-")
        client = f"{loop['cpu_seconds'] / loop['seconds']:.2f}" if loop and loop["seconds"] else "-"
        print(f"{r['label']:22} {r['rps']:7.0f} {r['p50']:7.1f} {r['p99']:7.1f} {r['errors']:>6} "
              f"{iterations:>8} {per_second:9.1f} {each:8.1f} {postgres:>8} {client:>17}")
    for r in runs:
        loop = r["report_loop"]
        if loop:
            where = "the replica (in recovery)" if loop["in_recovery"] else "the primary"
            print(f"[{r['label']}] the report read {where}; its last run counted {loop['rows']} earn entries"
                  f"{'; ERROR ' + loop['error'] if loop['error'] else ''}")
        print(f"[{r['label']}] cores busy: {r.get('cpu')}; bills {r['bills']} -> "
              f"{'OK' if r['bills_ok'] else 'MISMATCH'}; drift {len(r['drift'])}; replica lag after: "
              f"{r['lag_bytes_after']} bytes")


if __name__ == "__main__":
    sys.exit(main())
