"""`lps import` and `lps export`, run as hotel IT runs them: a real process against a real ini
file, on SQLite and PostgreSQL."""
import json

import pytest
from sqlalchemy import func, select

from lps_core.audit.models import AuditEntry
from lps_core.bulk.models import ImportBatch
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member
from lps_core.testing import run_lps, write_ini

@pytest.fixture
def ini(tmp_path, database_url, seed):
    return write_ini(tmp_path, database_url)


lps = run_lps


def count(db, model) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def test_import_previews_then_confirms_with_a_resolution(ini, db, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("name,phone,birthday\nZhang San,13800000003,\nZhang San Two,13800000003,\n"
                    "Wang Fang,13800000002,1990-02-30\n")
    dry = lps(ini, "import", "members", str(path), "--dry-run").stdout
    assert "3 rows: 2 conflict, 1 error" in dry and "nothing was kept" in dry
    assert count(db, ImportBatch) == 0
    preview = lps(ini, "import", "members", str(path)).stdout
    assert "row 4 error: birthday: must be a real calendar date" in preview
    assert "row 2 conflict (duplicate): rows 3 name the same member" in preview
    db.rollback()
    batch_id = db.scalar(select(ImportBatch.id))
    assert f"--confirm {batch_id}" in preview and count(db, Member) == 0
    refused = lps(ini, "import", "members", str(path), "--confirm", str(batch_id), expect=1).stderr
    assert "2 conflicts are not resolved" in refused
    other = tmp_path / "other.csv"
    other.write_text("name,phone\nLi,13800000009\n")
    assert "is not the file of batch" in lps(ini, "import", "members", str(other), "--confirm", str(batch_id),
                                             expect=1).stderr
    done = lps(ini, "import", "members", str(path), "--confirm", str(batch_id), "--resolve", "3=apply").stdout
    assert f"batch {batch_id} applied: 1 rows written" in done
    db.rollback()
    assert db.scalars(select(Member.name)).all() == ["Zhang San Two"]
    again = lps(ini, "import", "members", str(path)).stdout
    assert f"this file was confirmed before (batch {batch_id}, applied)" in again
    assert count(db, Member) == 1


def test_points_import_and_exports(ini, db, seed, tmp_path):
    card_no = seed.member_card("Li Wei")
    path = tmp_path / "points.csv"
    path.write_text(f"card_no,points,reason,reference\n{card_no},250,Migrated from the website,WEB-1\n")
    batch = lps(ini, "import", "points", str(path)).stdout.split()[1]
    lps(ini, "import", "points", str(path), "--confirm", batch)
    db.rollback()
    assert db.scalar(select(Account.balance).where(Account.kind == POINTS)) == 250 and find_drift(db) == []
    exported = json.loads(lps(ini, "export", "balances", "--format", "json").stdout)
    assert [(row["name"], row["points_balance"]) for row in exported["rows"]] == [("Li Wei", "250")]
    out = tmp_path / "members.xlsx"
    result = lps(ini, "export", "members", "--format", "xlsx", "-o", str(out), "--without-personal-data")
    assert "1 members rows exported" in result.stderr and out.read_bytes()[:4] == b"PK\x03\x04"
    assert "+8613800000000" in lps(ini, "export", "members").stdout
    assert "must be a date" in lps(ini, "export", "cards", "--changed-since", "yesterday", expect=1).stderr
    db.rollback()
    exports = db.scalars(select(AuditEntry).where(AuditEntry.action == "bulk.export")).all()
    assert [entry.after["personal_data"] for entry in exports] == [True, False, True]
    assert all(entry.actor_name.startswith("lps export") for entry in exports)


@pytest.mark.parametrize("content, message", [
    (b"nom\nLi\n", "has the unknown column nom"),
    ("name\n李\n".encode("gb18030"), "is not UTF-8 text"),
])
def test_a_bad_file_is_a_clear_error(ini, tmp_path, content, message):
    path = tmp_path / "members.csv"
    path.write_bytes(content)
    assert message in lps(ini, "import", "members", str(path), expect=1).stderr
    assert "no such file" in lps(ini, "import", "members", str(tmp_path / "missing.csv"), expect=1).stderr.lower()
