"""The browser-test harness: the real app with demo data on a local port, and Debian's Chromium.

LPS runs in a waitress server on 127.0.0.1 (a free port, a background thread) over a migrated
SQLite database loaded with `lps demo`'s data. Playwright drives the chromium binary that the
system's package installed (never a browser download), headless at 1366x768. Each test's final
page is saved to tests/browser/screenshots/<test name>.png, also when the test fails.

Without chromium or Playwright the tests skip with the reason; with CI set they fail instead,
as a missing PostgreSQL does in lps_core/testing.py.

A module whose tests read what members are sent runs an LPS of its own with `mailing_server`: the
e-mail channel on and pointed at `smtp`, a real SMTP server (aiosmtpd) on loopback, and a worker
delivering the outbox as `lps worker` does.
"""
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from lps_core.components import IPlugins
from lps_core.testing import TEST_SETTINGS, SmtpInbox

SCREENSHOTS = Path(__file__).parent / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 30_000  # generous: the machines are small (two cores) and may be very busy
WELCOME_DRINK = "WELCOME"  # the reward code that tests redeem (150 points)


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The URL of LPS with the demo data, served on a free local port for the whole session."""
    from waitress import create_server

    from lps_core import main
    from lps_core.db import get_engine, get_session_factory, run_in_transaction
    from lps_core.db.migrate import upgrade
    from lps_core.demo import load_demo

    database = tmp_path_factory.mktemp("browser") / "lps.sqlite"
    settings = {"sqlalchemy.url": f"sqlite:///{database}", **TEST_SETTINGS,
                "lps.session.secret": "browser-tests-session-secret",
                "lps.cards.issuance": "pool_then_generate",
                "lps.api.key_cache_seconds": "0", "lps.rules.cache_seconds": "0",
                "pyramid.default_locale_name": "en"}
    engine = get_engine(settings)
    upgrade(engine)
    app = main({}, **settings)
    plugins = app.registry.getUtility(IPlugins)
    run_in_transaction(get_session_factory(engine), lambda db: (load_demo(db, plugins, app.registry.settings),
                                                               _add_welcome_drink(db)))
    engine.dispose()

    server = create_server(app, host="127.0.0.1", port=0, threads=4, clear_untrusted_proxy_headers=True)
    thread = threading.Thread(target=server.run, name="lps-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def _add_welcome_drink(db):
    """A reward that a newly enrolled member can afford with one bill's points (the demo's cost thousands)."""
    from sqlalchemy import insert

    from lps_core.rewards.models import Reward

    db.execute(insert(Reward).values(code=WELCOME_DRINK, name="Welcome drink", category="item", cost_cents=500,
                                     points_price=150, stock=None, active=True))


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session."""
    executable = shutil.which("chromium")
    if executable is None:
        _unavailable("no chromium on PATH: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) with an English browser, at 1366x768. The staff
    answer OK to every confirmation the screens ask (lps.js's data-confirm)."""
    context = browser.new_context(base_url=live_server, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


@pytest.fixture(autouse=True)
def screenshot(page, request):
    """Saves the final page of every test, passed or failed, as screenshots/<test name>.png."""
    yield
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page, username, password):
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def sign_in():
    """`sign_in(page, username, password)`: fills and submits the sign-in form."""
    return _sign_in


@pytest.fixture
def expect(browser):
    """Playwright's waiting assertions (imported here, so that a missing Playwright skips or fails)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    return expect


@pytest.fixture
def swipe(expect):
    """`swipe(page, card_no)`: what a keyboard-wedge card reader does in the focused card field:
    type the number, then Enter."""
    def swipe(page, card_no):
        expect(page.locator("#card_no")).to_be_focused()
        page.keyboard.type(card_no + "\n")

    return swipe


# Mail: what members are sent, read from a real SMTP server on loopback.

class Mailbox(SmtpInbox):
    def wait_for(self, address, after, containing=None):
        """The first message to `address` among those taken after the first `after` (whose plain
        text matches the regular expression `containing`, when given), waited for as long as a
        page is waited for; AssertionError when none comes."""
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            for message in self.messages()[after:]:
                if address in message["To"] and (
                        containing is None or re.search(containing, message.get_body(("plain",)).get_content())):
                    return message
            time.sleep(0.25)
        raise AssertionError(f"no message reached {address}")


@pytest.fixture(scope="module")
def smtp():
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1 for one module's tests: a Mailbox
    whose `.port` the module's server sends to, and whose `.messages()` the tests read."""
    from lps_core.testing import serving_smtp

    inbox = Mailbox()
    with serving_smtp(inbox) as port:
        inbox.port = port
        yield inbox


def _plain_sessions(engine):
    """Sessions outside the app's transaction manager, that commit themselves (the worker's)."""
    from sqlalchemy.orm import Session

    return lambda: Session(engine, expire_on_commit=False)


@pytest.fixture(scope="module")
def mailing_server(tmp_path_factory, smtp):
    """`mailing_server(prepare, **settings)` -> (base URL, app, engine, what prepare returned): LPS on
    a free local port over a migrated SQLite database of its own with the demo's data, the e-mail
    channel on for the programme and sending to `smtp`, and a worker delivering the outbox every
    half second in a thread, with the sessions `lps worker` gives it. `prepare(db, app, demo)` adds
    what the module's tests need (`demo`: what load_demo returned); `settings` add to the app's."""
    from waitress import create_server

    from lps_core import main
    from lps_core.components import ISettings
    from lps_core.db import get_engine, get_session_factory, run_in_transaction
    from lps_core.db.migrate import upgrade
    from lps_core.demo import load_demo
    from lps_core.messages.worker import Worker
    from lps_core.plugins.switches import set_switch

    stops = []

    def serve(prepare, **settings):
        database = tmp_path_factory.mktemp("mailing-server") / "lps.sqlite"
        settings = {"sqlalchemy.url": f"sqlite:///{database}", **TEST_SETTINGS,
                    "lps.session.secret": "browser-tests-session-secret",
                    "lps.portal.secret": "browser-portal-secret",
                    "lps.email.host": "127.0.0.1", "lps.email.port": str(smtp.port),
                    "lps.email.sender": "loyalty@hotel.example.test", "lps.messages.poll_seconds": "0.5",
                    "pyramid.default_locale_name": "en", **settings}
        engine = get_engine(settings)
        upgrade(engine)
        app = main({}, **settings)
        plugins = app.registry.getUtility(IPlugins)

        def load(db):
            demo = load_demo(db, plugins, app.registry.settings)
            set_switch(db, plugins, kind="channel", name="email", scope="programme", scope_id=0, enabled=True)
            return prepare(db, app, demo)

        prepared = run_in_transaction(get_session_factory(engine), load)
        read_engine = get_engine(settings, immediate=False, statement_timeout=False)  # as `lps worker` on SQLite
        worker = Worker(_plain_sessions(engine), plugins, app.registry.getUtility(ISettings),
                        read_session_factory=_plain_sessions(read_engine), name="browser-tests")
        worker_thread = threading.Thread(target=worker.run, name="lps-worker", daemon=True)
        worker_thread.start()
        server = create_server(app, host="127.0.0.1", port=0, threads=4, clear_untrusted_proxy_headers=True)
        threading.Thread(target=server.run, name="lps-mailing-server", daemon=True).start()

        def stop():
            worker.stopping.set()
            worker_thread.join(10)
            server.close()
            read_engine.dispose()
            engine.dispose()

        stops.append(stop)
        return f"http://127.0.0.1:{server.effective_port}", app, engine, prepared

    yield serve
    for stop in stops:
        stop()
