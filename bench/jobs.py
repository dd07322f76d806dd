#!/usr/bin/env python3
"""Benchmark of the batch jobs (`lps jobs expire`, `lps jobs tiers`; more plug into JOBS) on PostgreSQL.

Generates the data once with bench/jobs_data.py into a pristine database (or reuses it with
--reuse), then for each job copies it to a scratch database (CREATE DATABASE ... TEMPLATE), runs the
job through the real CLI in a subprocess with a temporary ini, reports seconds and rows touched, and
checks the ledger with find_drift before and after. Drops what it created unless --keep.

    .venv/bin/python bench/jobs.py                      # generate 1M members, time every job
    .venv/bin/python bench/jobs.py --reuse --keep       # the data is already there; keep it
"""
import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jobs_data  # noqa: E402  (bench/ is not a package)

LPS = str(Path(sys.executable).with_name("lps"))
AS_OF = jobs_data.AS_OF.isoformat()
NEXT_DAY = (jobs_data.AS_OF + timedelta(days=1)).isoformat()


def job_options(args) -> list[str]:
    """The options every job's command gets from this script's own."""
    options = ["--no-progress"]
    if args.batch_size:
        options += ["--batch-size", str(args.batch_size)]
    if args.workers:
        options += ["--workers", str(args.workers)]
    return options


def log(message):
    print(message, file=sys.stderr, flush=True)


def run_lps(ini, *args):
    started = time.monotonic()
    result = subprocess.run([LPS, "-c", ini, *args], capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"lps {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout, seconds


def count(url, sql):
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        value = connection.execute(text(sql)).one()
    engine.dispose()
    return value


# ---------------------------------------------------------------- jobs


def time_expire(url, ini, args) -> dict:
    """`lps jobs expire`: the dry run, the catch-up run at AS_OF, the same run again, the next day's run."""
    common = job_options(args)
    dry, dry_seconds = run_lps(ini, "jobs", "expire", "--dry-run", "--now", AS_OF, *common)
    out, seconds = run_lps(ini, "jobs", "expire", "--now", AS_OF, *common)
    entries, allocations = count(url, "SELECT (SELECT count(*) FROM ledger_entries WHERE kind = 'expiry'), "
                                      "(SELECT count(*) FROM lot_allocations a JOIN ledger_entries e "
                                      "ON e.id = a.entry_id WHERE e.kind = 'expiry')")
    again, again_seconds = run_lps(ini, "jobs", "expire", "--now", AS_OF, *common)
    next_out, next_seconds = run_lps(ini, "jobs", "expire", "--now", NEXT_DAY, *common)
    summary = dict(zip(("accounts", "lots", "points", "warnings"),
                       (int(n.replace(",", "")) for n in re.findall(r": ([\d,]+)", out.splitlines()[-1]))))
    assert "already finished" in again, again
    return {
        "dry_run_seconds": round(dry_seconds, 1), "dry_run": dry.strip().splitlines()[-1],
        "seconds": round(seconds, 1), **summary,
        "rows_written": {"ledger_entries": entries, "lot_allocations": allocations, "point_lots": summary["lots"],
                         "accounts": summary["accounts"], "expiry_warnings": summary["warnings"]},
        "second_run_seconds": round(again_seconds, 1),
        "next_day_seconds": round(next_seconds, 1), "next_day": next_out.strip().splitlines()[-1],
    }


def time_tiers(url, ini, args) -> dict:
    """`lps jobs tiers`: the dry run, the evaluation at AS_OF (tiers and lifecycle), the same run key
    again (must do nothing), and a second evaluation the next day (another run key)."""
    common = job_options(args)
    dry, dry_seconds = run_lps(ini, "jobs", "tiers", "--dry-run", "--now", AS_OF, *common)
    out, seconds = run_lps(ini, "jobs", "tiers", "--now", AS_OF, *common)
    changes, members = count(url, "SELECT (SELECT count(*) FROM tier_changes WHERE reason = 'evaluation'), "
                                  "(SELECT count(*) FROM members)")
    again, again_seconds = run_lps(ini, "jobs", "tiers", "--now", AS_OF, *common)
    next_out, next_seconds = run_lps(ini, "jobs", "tiers", "--now", NEXT_DAY, *common)
    assert "already finished" in again, again
    return {
        "members": members, "dry_run_seconds": round(dry_seconds, 1), "dry_run": dry.strip().splitlines()[-1],
        "seconds": round(seconds, 1), "summary": out.strip().splitlines()[-1], "tier_changes": changes,
        "second_run_seconds": round(again_seconds, 1),
        "next_day_seconds": round(next_seconds, 1), "next_day": next_out.strip().splitlines()[-1],
    }


JOBS = {"expire": time_expire, "tiers": time_tiers}  # name -> function(url, ini, args) -> figures


# ---------------------------------------------------------------- driver


def copy_database(server, source, target):
    """A scratch copy of `source`. PostgreSQL 15 copies a database through the WAL by default, some
    gigabytes here, and the checkpoints that WAL sets off then ran during the timed job (its first
    writes to each page after a checkpoint log the whole page). FILE_COPY copies the files between
    two checkpoints instead, so the job's time is its own."""
    from sqlalchemy import create_engine, text

    engine = create_engine(server)
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version_num")).scalar_one()
    engine.dispose()
    strategy = " STRATEGY = FILE_COPY" if int(version) >= 150000 else ""
    jobs_data.admin_execute(server, f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)',
                            f'CREATE DATABASE "{target}" TEMPLATE "{source}"{strategy}')


def drop_database(server, name):
    jobs_data.admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_exists(server, name):
    from sqlalchemy import create_engine, text

    admin = create_engine(server)
    with admin.connect() as connection:
        found = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
    admin.dispose()
    return bool(found)


def pii_settings() -> list[str]:
    """Keys of personal data for the ini: the environment's (LPS_PII_KEYS, LPS_PII_INDEX_KEY), or new
    ones for this run. The jobs read no personal data, so any keys will do."""
    from cryptography.fernet import Fernet

    return [f"lps.pii.keys = {os.environ.get('LPS_PII_KEYS') or Fernet.generate_key().decode()}",
            f"lps.pii.index_key = {os.environ.get('LPS_PII_INDEX_KEY') or secrets.token_urlsafe(32)}"]


def write_ini(directory, url, args):
    path = Path(directory) / "bench-jobs.ini"
    path.write_text("\n".join([
        "[app:main]", "use = egg:lps", f"sqlalchemy.url = {url}", *pii_settings(),
        "lps.points.expiry_policy = months_after_earn", "lps.points.expiry_months = 18",
        f"lps.points.inactivity_months = {args.inactivity_months}", "lps.points.expiry_warning_days = 30",
        "lps.tiers.window = rolling_12_months", f"lps.members.dormant_after_months = {args.dormant_months}",
        f"lps.members.close_after_months = {args.close_months}",
        *([f"lps.plugins.disabled = {args.disable_plugins}"] if args.disable_plugins else []), "",
    ]))
    return str(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("LPS_BENCH_SERVER", jobs_data.ROOT_SERVER))
    parser.add_argument("--database", default="lps_bench_jobs", help="the pristine generated database")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="use the pristine database as it is")
    parser.add_argument("--keep", action="store_true", help="keep the pristine database (and the last scratch copy)")
    parser.add_argument("--jobs", nargs="+", choices=sorted(JOBS), default=sorted(JOBS))
    parser.add_argument("--batch-size", type=int, help="default: each job's own (50000 expire, 100000 tiers)")
    parser.add_argument("--workers", type=int, help="batches at once (default: the jobs' own, 2 on PostgreSQL)")
    parser.add_argument("--inactivity-months", type=int, default=12, help="0 turns inactivity expiry off")
    parser.add_argument("--dormant-months", type=int, default=12, help="tiers job: lps.members.dormant_after_months")
    parser.add_argument("--close-months", type=int, default=18, help="tiers job: lps.members.close_after_months")
    parser.add_argument("--disable-plugins", default="lps_messages",
                        help="lps.plugins.disabled for the jobs (default lps_messages: the members' messages, one "
                             "outbox row per tier change and warning, are not the jobs' own cost; '' keeps them)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    pristine = args.database
    generated = not (args.reuse and database_exists(args.server, pristine))
    if generated:
        log(f"generating {args.members:,} members into {pristine} ...")
        jobs_data.recreate_database(args.server, pristine)
        started = time.monotonic()
        counts = jobs_data.generate(jobs_data.database_url(args.server, pristine), args.members)
        log(f"generated in {time.monotonic() - started:.0f}s: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    figures, failed = {}, False
    with tempfile.TemporaryDirectory(prefix="lps-bench-jobs-") as tmp:
        for job in args.jobs:
            scratch = f"{pristine}_{job}"
            started = time.monotonic()
            copy_database(args.server, pristine, scratch)
            log(f"{job}: copied {pristine} to {scratch} in {time.monotonic() - started:.0f}s")
            url = jobs_data.database_url(args.server, scratch)
            try:
                drift_before, check_seconds = jobs_data.check_ledger(url)
                result = JOBS[job](url, write_ini(tmp, url, args), args)
                drift_after, _ = jobs_data.check_ledger(url)
                result.update(drift_before=len(drift_before), drift_after=len(drift_after),
                              ledger_check_seconds=round(check_seconds, 1))
                failed |= bool(drift_before or drift_after)
                figures[job] = result
                log(f"{job}: {json.dumps(result, indent=2)}")
            finally:
                if not args.keep:
                    drop_database(args.server, scratch)
    if generated and not args.keep:  # a reused database is not this run's to drop
        drop_database(args.server, pristine)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
