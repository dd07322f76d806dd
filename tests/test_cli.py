"""The `lps` command, run as hotel IT runs it: a real process against a real ini file."""
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from lps_core.cards.luhn import luhn_valid
from lps_core.cards.models import Card
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account
from lps_core.members.models import Member
from lps_core.outlets.models import Outlet
from lps_core.plugins.switches import set_switch
from lps_core.testing import TEST_INI_LINES, PtySocket, run_lps, write_ini

LPS = str(Path(sys.executable).with_name("lps"))


@pytest.fixture
def ini(tmp_path, database_url, clean_db):
    return write_ini(tmp_path, database_url)


@pytest.fixture
def ini_without_database(tmp_path):
    """For commands that never open the database."""
    path = tmp_path / "lps.ini"
    path.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = sqlite:///{tmp_path}/never-opened.sqlite\n"
                    f"{TEST_INI_LINES}")
    return str(path)


lps = run_lps


def test_db_upgrade_is_repeatable(ini):
    assert "is at revision head" in lps(ini, "db", "upgrade").stdout
    lps(ini, "db", "upgrade")


def test_db_upgrade_creates_a_sqlite_database_and_its_folder(tmp_path):
    path = tmp_path / "lps.ini"
    path.write_text(f"[app:main]\nsqlalchemy.url = sqlite:///{tmp_path}/var/new.sqlite\n{TEST_INI_LINES}")
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


def test_plugins_lists_components_by_kind_with_their_origin_and_default(ini_without_database):
    listing = lps(ini_without_database, "plugins").stdout
    assert "\ntender (switched per outlet)\n" in listing and "\nformula\n" in listing
    for line in [r"cash +plugin lps_tenders +from lps \(core\) +on by default",
                 r"email +plugin email +from lps-email +off by default",
                 r"base_rate +plugin base_rate +from lps-base-rate",
                 r"serial_magstripe +plugin serial_reader +from lps-serial-reader",
                 r"points_threshold +plugin points_tiers +from lps \(core\)",
                 r"lps-80mm +plugin lps_receipts +from lps \(core\)"]:
        assert re.search(rf"^  {line}$", listing, re.MULTILINE), line
    assert "  lps_listeners (lps): lps_on_bill_posted" in listing


def test_plugins_as_json(ini_without_database):
    listing = json.loads(lps(ini_without_database, "plugins", "--json").stdout)
    assert {"name": "email", "distribution": "lps-email",
            "hooks": ["lps_notification_channels", "lps_settings"]} in listing["plugins"]
    email = next(channel for channel in listing["components"]["channel"] if channel["name"] == "email")
    assert (email["name"], email["plugin"], email["distribution"], email["origin"], email["enabled_by_default"]) == (
        "email", "email", "lps-email", "third_party", False)
    cash = next(tender for tender in listing["components"]["tender"] if tender["name"] == "cash")
    assert (cash["origin"], cash["enabled_by_default"]) == ("core", True)
    assert {"base_rate", "rooms"} <= {formula["name"] for formula in listing["components"]["formula"]}


@pytest.fixture
def mail_ini(tmp_path, database_url, clean_db, smtp_server):
    path = tmp_path / "lps.ini"
    path.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}"
                    f"lps.email.host = 127.0.0.1\nlps.email.port = {smtp_server.port}\n"
                    "lps.email.sender = loyalty@hotel.example.test\nlps.email.timeout = 5\n")
    return str(path)


def test_message_send_prints_the_outcome_and_exits_by_it(mail_ini, seed, smtp_server):
    send = ["message", "send", "--channel", "email", "--subject", "Hello", "--body", "Welcome to the programme."]
    refused = lps(mail_ini, *send, "--to", "guest@example.test", "--outlet", "REST", expect=1).stderr
    assert "the channel 'email' is switched off at outlet REST" in refused
    set_switch(seed.db, seed.plugins, kind="channel", name="email", scope="outlet", enabled=True,
               scope_id=seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST")))
    seed.db.commit()

    delivered = lps(mail_ini, *send, "--to", "guest@example.test", "--outlet", "REST").stdout
    assert delivered.startswith(f"delivered: accepted by 127.0.0.1:{smtp_server.port} (id <")
    (sent,) = smtp_server.messages()
    assert (sent["To"], sent["Subject"], sent.get_content()) == ("guest@example.test", "Hello",
                                                                 "Welcome to the programme.\n")

    smtp_server.replies["nobody@example.test"] = "550 5.1.1 no such user"
    permanent = lps(mail_ini, *send, "--to", "nobody@example.test", "--outlet", "REST", expect=1).stdout
    assert permanent.startswith("permanent: the server refused the recipient: nobody@example.test: 550")
    smtp_server.data_reply = "451 4.3.0 try again later"
    temporary = lps(mail_ini, *send, "--to", "guest@example.test", "--outlet", "REST", expect=75).stdout
    assert temporary.startswith("temporary: the server deferred the message: 451")

    assert "switched off at outlet SPA" in lps(mail_ini, *send, "--to", "guest@example.test", "--outlet", "SPA",
                                               expect=1).stderr
    assert "switched off in this programme" in lps(mail_ini, *send, "--to", "guest@example.test", expect=1).stderr
    assert "outlet 'NOPE' does not exist" in lps(mail_ini, *send, "--to", "guest@example.test", "--outlet", "NOPE",
                                                 expect=1).stderr
    assert len(smtp_server.envelopes) == 1


def test_drivers_lists_the_installed_drivers_without_a_config_file(tmp_path):
    listing = lps(str(tmp_path / "none.ini"), "drivers").stdout
    assert re.search(r"^serial_magstripe +Magnetic-stripe .*serial port +from lps-serial-reader$", listing,
                     re.MULTILINE)


def probe(plugins, tmp_path, sent, timeout="10") -> subprocess.CompletedProcess:
    """`lps drivers --probe` on the slave end of a pseudo-terminal, with the driver's simulator on the
    master end sending `sent` (a card number, or raw bytes) again and again until the probe ends: a
    swipe before the probe opens the port is discarded, as a real reader's would be."""
    device = PtySocket(tmp_path)
    simulator = plugins.component("card_reader", "serial_magstripe").obj.simulator(device.master)
    try:
        process = subprocess.Popen([LPS, "-c", str(tmp_path / "none.ini"), "drivers", "--probe", "serial_magstripe",
                                    "--port", device.path, "--timeout", timeout],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while sent is not None and process.poll() is None and time.monotonic() < deadline:
            if isinstance(sent, str):
                simulator.present(sent)
            else:
                simulator.send_raw(sent)
            time.sleep(0.2)
        stdout, stderr = process.communicate(timeout=60)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    finally:
        simulator.close()
        device.close()


def test_drivers_probe_prints_the_card_read(plugins, tmp_path):
    result = probe(plugins, tmp_path, "8800000000000013")
    assert (result.returncode, result.stdout) == (0, "8800000000000013\n")


def test_drivers_probe_prints_a_misread(plugins, tmp_path):
    result = probe(plugins, tmp_path, b"\x00garbage\r\n")
    assert result.returncode == 1
    assert result.stdout.startswith("misread: unreadable card data")


def test_drivers_probe_says_when_no_card_came(plugins, tmp_path):
    result = probe(plugins, tmp_path, None, timeout="0.3")
    assert (result.returncode, result.stdout) == (1, "no card within 0.3 s\n")


def test_drivers_probe_names_what_is_wrong(tmp_path):
    no_config = str(tmp_path / "none.ini")
    assert "no driver 'nope' (installed: serial_magstripe" in lps(no_config, "drivers", "--probe", "nope",
                                                                  "--port", "/dev/null", expect=1).stderr
    assert "--probe needs --port" in lps(no_config, "drivers", "--probe", "serial_magstripe", expect=2).stderr
    assert "cannot open /dev/lps-no-such-reader" in lps(no_config, "drivers", "--probe", "serial_magstripe",
                                                        "--port", "/dev/lps-no-such-reader", expect=1).stderr


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    result = subprocess.run([LPS, "-c", str(tmp_path / "none.ini"), "ledger", "check"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "not found" in result.stderr
