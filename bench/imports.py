#!/usr/bin/env python3
"""Benchmark of the bulk import: 100,000 member rows previewed, confirmed and applied on PostgreSQL,
through lps_core.bulk as `lps import` runs it (one transaction for the preview, one for the confirm,
one per applied chunk). See bench/README.md.

Two files are imported into a fresh database:
1. 100,000 new members (phone, e-mail, birthday; ID number and address on every other row):
   every row is an add;
2. the same members exported back by LPS, with every tenth name changed: 10,000 changes with a
   field diff, 90,000 unchanged rows found by member number.

    flock /tmp/team/bench.lock .venv/bin/python bench/imports.py [--rows 100000] [--server URL]
"""
import argparse
import csv
import io
import os
import platform
import random
import secrets
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lps_core.audit.services import Actor  # noqa: E402
from lps_core.bulk import services  # noqa: E402
from lps_core.bulk.exports import export  # noqa: E402
from lps_core.bulk.files import read_table  # noqa: E402
from lps_core.cards.models import CardType  # noqa: E402
from lps_core.db import get_engine  # noqa: E402
from lps_core.db.migrate import upgrade  # noqa: E402
from lps_core.ledger.check import find_drift  # noqa: E402
from lps_core.members.models import Member, Tier  # noqa: E402

ACTOR = Actor("system", "bench/imports.py")
DATABASE = "lps_bench_imports"


def pii_settings() -> dict:
    from cryptography.fernet import Fernet

    return {"lps.pii.keys": os.environ.get("LPS_PII_KEYS") or Fernet.generate_key().decode(),
            "lps.pii.index_key": os.environ.get("LPS_PII_INDEX_KEY") or secrets.token_urlsafe(32)}


def fresh_database(server) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return make_url(server).set(database=DATABASE).render_as_string(hide_password=False)


def members_file(rows) -> bytes:
    random.seed(42)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "phone", "email", "birthday", "gender", "id_number", "address"])
    for number in range(rows):
        writer.writerow([f"Member {number}", f"139{number:08d}", f"member{number}@example.com",
                         f"{random.randint(1950, 2005)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}",
                         random.choice(["female", "male", "unspecified"]),
                         f"1101051990{number:08d}" if number % 2 == 0 else "",
                         f"{number} Nanjing Road, Shanghai" if number % 2 == 0 else ""])
    return out.getvalue().encode()


def changed_export(session_factory, tz) -> bytes:
    """LPS's own export of the members, every tenth name changed."""
    with session_factory() as db:
        content, _, _ = export(db, "members", "csv", actor=ACTOR, personal=True, tz=tz)
        db.commit()
    table = read_table(content, "members.csv")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for index, (_, cells) in enumerate(table.rows):
        if index % 10 == 0:
            cells = {**cells, "name": cells["name"] + " (renamed)"}
        writer.writerow([cells[column] for column in table.columns])
    return out.getvalue().encode()


def backend_cpu(engine) -> float:
    """CPU seconds used so far by the PostgreSQL server processes of the bench's database (the
    server runs on this machine: /proc tells), so that a run on a busy machine still shows how much
    work each phase was."""
    with engine.connect() as connection:
        pids = connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_import(engine, session_factory, content, name) -> dict:
    timings = {}
    started, cpu, server = time.perf_counter(), time.process_time(), backend_cpu(engine)
    with session_factory() as db:
        batch, _ = services.preview_import(db, kind="members", content=content, file_name=name, actor=ACTOR)
        batch_id, counts = batch.id, dict(batch.counts)
        db.commit()
    timings["preview"] = time.perf_counter() - started
    mark = time.perf_counter()
    with session_factory() as db:
        batch = services.confirm(db, batch_id, actor=ACTOR)
        status = batch.status
        db.commit()
    timings["confirm"] = time.perf_counter() - mark
    mark = time.perf_counter()
    chunks = 0
    while status == "applying":
        with session_factory() as db:
            batch = services.apply_next_chunk(db, batch_id)
            status, applied = batch.status, batch.applied_rows
            db.commit()
        chunks += 1
    timings["apply"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    timings["cpu"] = time.process_time() - cpu
    timings["server_cpu"] = backend_cpu(engine) - server
    if status != "applied":
        sys.exit(f"bench/imports.py: batch {batch_id} ended {status}")
    return {"counts": counts, "timings": timings, "chunks": chunks}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--server", default=os.environ.get("LPS_BENCH_SERVER",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    url = fresh_database(args.server)
    engine = get_engine({"sqlalchemy.url": url, **pii_settings()}, statement_timeout=False)
    upgrade(engine)
    with Session(engine) as db:
        db.execute(insert(Tier).values(code="classic", name="Classic", rank=0))
        db.execute(insert(CardType).values(code="standard", name="Standard", prefix="8800"))
        db.commit()

    def session_factory():
        return Session(engine, expire_on_commit=False)

    print(f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {engine.dialect.name} "
          f"{'.'.join(map(str, engine.dialect.server_version_info))}; load average {os.getloadavg()[0]:.2f}")
    mark = time.perf_counter()
    first = members_file(args.rows)
    print(f"file 1: {args.rows:,} new members, {len(first) / 1e6:.1f} MB, made in {time.perf_counter() - mark:.1f} s")
    result = run_import(engine, session_factory, first, "members.csv")
    report("file 1 (adds)", result)
    second = changed_export(session_factory, None)
    result = run_import(engine, session_factory, second, "members-export.csv")
    report("file 2 (every tenth renamed)", result)
    with session_factory() as db:
        members = db.scalar(select(func.count()).select_from(Member))
        renamed = db.scalar(select(func.count()).select_from(Member).where(Member.name.like("% (renamed)")))
        drift = find_drift(db)
    print(f"members: {members:,}, renamed: {renamed:,}, ledger drift: {len(drift)}")
    engine.dispose()
    if members != args.rows or renamed != -(-args.rows // 10) or drift:
        sys.exit("bench/imports.py: the database does not hold what the files said")


def report(label, result):
    timings = result["timings"]
    counts = ", ".join(f"{count:,} {action}" for action, count in sorted(result["counts"].items()))
    print(f"{label}: {counts}; preview {timings['preview']:.1f} s, confirm {timings['confirm']:.1f} s, "
          f"apply {timings['apply']:.1f} s in {result['chunks']} chunks; total {timings['total']:.1f} s "
          f"(CPU: {timings['cpu']:.1f} s this process, {timings['server_cpu']:.1f} s PostgreSQL; "
          f"load average now {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
