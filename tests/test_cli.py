"""The `lps` command, run as hotel IT runs it: a real process against a real ini file."""
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from lps_core.cards.luhn import luhn_valid
from lps_core.cards.models import Card
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account
from lps_core.members.models import Member
from lps_core.testing import PII_INI_LINES

LPS = str(Path(sys.executable).with_name("lps"))


@pytest.fixture
def ini(tmp_path, database_url, clean_db):
    path = tmp_path / "lps.ini"
    path.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{PII_INI_LINES}")
    return str(path)


def lps(ini, *args, expect=0):
    result = subprocess.run([LPS, "-c", ini, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == expect, result.stderr
    return result


def test_db_upgrade_is_repeatable(ini):
    assert "is at revision head" in lps(ini, "db", "upgrade").stdout
    lps(ini, "db", "upgrade")


def test_db_upgrade_creates_a_sqlite_database_and_its_folder(tmp_path):
    path = tmp_path / "lps.ini"
    path.write_text(f"[app:main]\nsqlalchemy.url = sqlite:///{tmp_path}/var/new.sqlite\n{PII_INI_LINES}")
    lps(str(path), "db", "upgrade")
    assert (tmp_path / "var" / "new.sqlite").exists()


def test_demo_is_idempotent_and_ends_with_a_working_key(ini, db, wsgi_app):
    from webtest import TestApp

    first = lps(ini, "demo").stdout.strip().splitlines()
    second = lps(ini, "demo").stdout.strip().splitlines()
    assert db.scalar(select(func.count()).select_from(Member)) == 4
    assert find_drift(db) == []  # the prepaid member's deposit was posted once
    db.commit()  # on SQLite an open transaction holds the write lock the app needs
    assert first[:-1] == second[:-1]
    app = TestApp(wsgi_app)
    card_no = next(line.split()[0] for line in first if line.startswith("  "))
    assert any(line.startswith("Staff sign-in at") for line in first)
    app.get(f"/api/v1/cards/{card_no}", headers={"Authorization": f"Bearer {second[-1]}"}, status=200)
    app.get(f"/api/v1/cards/{card_no}", headers={"Authorization": f"Bearer {first[-1]}"}, status=401)


def test_apikey_create_prints_the_key_last(ini, db):
    lps(ini, "demo")
    key = lps(ini, "apikey", "create", "--outlet", "SPA", "--scope", "transactions").stdout.splitlines()[-1]
    assert key.startswith("lps_")
    error = lps(ini, "apikey", "create", "--outlet", "NOPE", expect=1).stderr
    assert "outlet 'NOPE' does not exist" in error
    assert "revoked" in lps(ini, "apikey", "revoke", key.split("_")[1]).stdout


def test_cards_generate_fills_the_pool(ini, db):
    lps(ini, "demo")
    numbers = lps(ini, "cards", "generate", "--count", "5", "--prefix", "6600").stdout.split()
    assert len(numbers) == 5 and all(luhn_valid(n) and n.startswith("6600") and len(n) == 16 for n in numbers)
    statuses = db.scalars(select(Card.status).where(Card.card_no.in_(numbers))).all()
    db.commit()
    assert statuses == ["unissued"] * 5
    more = lps(ini, "cards", "generate", "--count", "2", "--prefix", "6600").stdout.split()
    assert not set(more) & set(numbers)
    assert "no such card type" in lps(ini, "cards", "generate", "--count", "1", "--type", "nope", expect=1).stderr


def test_ledger_check_exits_non_zero_on_drift(ini, db):
    lps(ini, "demo")
    assert "ledger OK" in lps(ini, "ledger", "check").stdout
    db.execute(update(Account).where(Account.id == db.scalar(select(func.min(Account.id)))).values(balance=7))
    db.commit()
    assert "DRIFT account" in lps(ini, "ledger", "check", expect=1).stdout


def test_plugins_lists_the_base_rate_formula(ini):
    assert '"base_rate"' in lps(ini, "plugins").stdout


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    result = subprocess.run([LPS, "-c", str(tmp_path / "none.ini"), "ledger", "check"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "not found" in result.stderr
