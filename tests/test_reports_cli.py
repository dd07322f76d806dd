"""`lps report` and `lps jobs reports` as hotel IT runs them: the real command on the test
database, the same figures as the API, XLSX to a file, a bad filter exits 1 naming the field, and
the scheduled reports queued once however often the job runs."""
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from lps_core.messages.models import OutboxMessage
from lps_core.testing import TEST_INI_LINES
from lps_core.timeutil import utcnow
from tests.test_reports import postings  # noqa: F401 (the known set of postings)

LPS = str(Path(sys.executable).with_name("lps"))


def lps(ini, *args):
    return subprocess.run([LPS, "-c", str(ini), *args], capture_output=True, timeout=120)


def test_the_report_command_gives_the_api_figures(tmp_path, database_url, seed, postings):  # noqa: F811
    ini = tmp_path / "lps.ini"
    ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}")
    days = ["--from", (utcnow() - timedelta(days=10)).date().isoformat(),
            "--to", (utcnow() + timedelta(days=1)).date().isoformat()]
    result = lps(ini, "report", "sales", *days)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["net"] == "675.00"
    result = lps(ini, "report", "points", *days, "--format", "xlsx", "--output", str(tmp_path / "points.xlsx"))
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(tmp_path / "points.xlsx")["Totals"]
    totals = dict(zip([cell.value for cell in sheet[sheet.max_row - 1]], [cell.value for cell in sheet[sheet.max_row]]))
    assert totals["Outstanding at the end"] == 345
    result = lps(ini, "report", "transactions", *days, "--kind", "refund", "--format", "csv")
    assert result.stdout.startswith("\ufeff".encode()) and b"130.00" in result.stdout
    refused = lps(ini, "report", "sales", "--outlet", "NOPE")
    assert refused.returncode == 1 and b"outlet: is not a known outlet" in refused.stderr


def test_the_reports_job_queues_once(tmp_path, database_url, seed, db):
    ini = tmp_path / "lps.ini"
    ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}"
                   "lps.reports.schedule = sales daily gm@hotel.example.test\n")
    dry = lps(ini, "jobs", "reports", "--dry-run")
    assert dry.returncode == 0 and b"-> gm@hotel.example.test: would queue" in dry.stdout, dry.stderr
    first, second = lps(ini, "jobs", "reports"), lps(ini, "jobs", "reports")
    assert b": queued" in first.stdout and b": already queued" in second.stdout, (first.stderr, second.stderr)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event == "report")) == 1
