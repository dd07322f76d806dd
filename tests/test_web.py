"""Staff sign-in: sessions and their idle timeout, CSRF on every form, the password policy, the
forced password change, the lock-out per account, the throttle per client address, and the
security headers of every screen."""
import re

import pytest
from sqlalchemy import select
from webtest import TestApp

from lps_core.operators.models import Operator
from lps_core.operators.services import MAX_FAILED_LOGINS, create_operator
from lps_core.operators.throttle import ADDRESS_MAX_FAILURES
from lps_core.screens.shell import security
from lps_core.testing import TEST_SETTINGS, audited

PASSWORD = "first-pass-123"


@pytest.fixture
def operator(seed):
    create_operator(seed.db, "alice", PASSWORD, display_name="Alice Chen", must_change_password=False)
    seed.db.commit()
    return "alice"


def csrf_of(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(testapp, username, password, status=303):
    page = testapp.get("/login")
    return testapp.post("/login", {"username": username, "password": password, "csrf_token": csrf_of(page)},
                        status=status)


def test_the_landing_page_asks_for_sign_in(testapp):
    assert testapp.get("/", status=303).location.endswith("/login?next=%2F")


def test_sign_in_shows_the_landing_page_and_sign_out_ends_the_session(testapp, operator):
    home = sign_in(testapp, "alice", PASSWORD).follow()
    assert "Alice Chen" in home.text and "base_rate" in home.text
    testapp.post("/logout", {"csrf_token": csrf_of(home)}, status=303)
    testapp.get("/", status=303)


def test_the_session_cookie_is_httponly_and_samesite(testapp, operator):
    response = sign_in(testapp, "alice", PASSWORD)
    cookies = response.headers.getall("Set-Cookie")
    assert any(cookie.startswith("lps_staff=") for cookie in cookies)
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_form_without_its_csrf_token_is_refused(testapp, operator):
    testapp.get("/login")
    testapp.post("/login", {"username": "alice", "password": PASSWORD}, status=400)


def test_a_wrong_password_is_answered_beside_the_form(testapp, operator):
    page = sign_in(testapp, "alice", "wrong-pass-123", status=400)
    assert "The user name or password is not right." in page.text
    assert sign_in(testapp, "nobody", "wrong-pass-123", status=400).text.count("not right") == 1


def test_repeated_failures_lock_the_account(testapp, seed, operator):
    for _ in range(MAX_FAILED_LOGINS):
        sign_in(testapp, "alice", "wrong-pass-123", status=400)
    assert "not right" in sign_in(testapp, "alice", PASSWORD, status=400).text  # the right password, but locked
    assert audited(seed.db, "operator.sign_in_failed")[-1].after == {"reason": "account locked"}


def test_a_new_operator_must_choose_a_password_first(testapp, seed):
    create_operator(seed.db, "bob", PASSWORD)
    seed.db.commit()
    page = sign_in(testapp, "bob", PASSWORD).follow()
    assert "Choose a new password" in page.text
    testapp.get("/", status=303)
    form = {"csrf_token": csrf_of(page)}
    short = testapp.post("/password", {**form, "password": "short1", "confirm": "short1"}, status=400)
    assert "must be at least 10 characters" in short.text
    done = testapp.post("/password", {**form, "password": "second-pass-456", "confirm": "second-pass-456"},
                        status=303).follow()
    assert "Your password has been changed." in done.text


def test_next_never_leaves_the_site(testapp, operator):
    page = testapp.get("/login?next=//evil.example/")
    response = testapp.post("/login", {"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(page),
                                       "next": "//evil.example/"}, status=303)
    assert response.location == "http://localhost/"


def test_the_password_form_refuses_a_post_without_its_csrf_token(testapp, seed):
    create_operator(seed.db, "bob", PASSWORD)
    seed.db.commit()
    sign_in(testapp, "bob", PASSWORD)
    testapp.post("/password", {"password": "second-pass-456", "confirm": "second-pass-456"}, status=400)
    testapp.post("/password", {"password": "second-pass-456", "confirm": "second-pass-456",
                               "csrf_token": "forged"}, status=400)


@pytest.mark.parametrize("password, problem", [
    ("!!!!????....", "must mix letters with digits or symbols"),
    ("abcdefghijkl", "must mix letters with digits or symbols"),
    ("1234567890123", "must mix letters with digits or symbols"),
    ("xx-bob-2026-yy", "must not contain the user name"),
])
def test_the_password_policy_answers_beside_the_field(testapp, seed, password, problem):
    create_operator(seed.db, "bob", PASSWORD)
    seed.db.commit()
    page = sign_in(testapp, "bob", PASSWORD).follow()
    answer = testapp.post("/password", {"password": password, "confirm": password, "csrf_token": csrf_of(page)},
                          status=400)
    assert [p.text for p in answer.html.select('p.error')] == [problem]


def test_one_address_failing_too_often_is_throttled_across_accounts(testapp, operator):
    testapp.extra_environ = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(ADDRESS_MAX_FAILURES):
        sign_in(testapp, f"guess{n}", "wrong-pass-123", status=400)
    refused = sign_in(testapp, "alice", PASSWORD, status=429)
    assert "Too many failed sign-ins from this address" in refused.text
    testapp.extra_environ = {"REMOTE_ADDR": "203.0.113.10"}
    sign_in(testapp, "alice", PASSWORD)


def test_an_idle_session_is_signed_out_with_a_message(testapp, operator, monkeypatch):
    start = security.clock()
    home = sign_in(testapp, "alice", PASSWORD).follow()
    assert "Alice Chen" in home.text
    monkeypatch.setattr(security, "clock", lambda: start + 29 * 60)
    testapp.get("/", status=200)  # activity keeps the session alive
    monkeypatch.setattr(security, "clock", lambda: start + 29 * 60 + 1801)
    page = testapp.get("/", status=303).follow()
    assert "signed out after a while without activity" in page.text
    assert "lps_staff" not in testapp.cookies  # the dead session's cookie is dropped
    again = testapp.get("/", status=303).follow()
    assert "signed out after a while" not in again.text  # said once


def test_the_session_cookie_is_secure_when_configured(database_url):
    from webtest import TestApp

    from lps_core import main

    wsgi = main({}, **{**TEST_SETTINGS, "sqlalchemy.url": database_url, "lps.session.secure": "true", "lps.session.secret": "x" * 64})
    app = TestApp(wsgi, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "localhost"})
    cookie = app.get("/login").headers["Set-Cookie"]  # the session that carries the CSRF token
    forgotten = app.post("/logout", {"csrf_token": csrf_of(app.get("/login"))}, headers={"Referer": "https://localhost/"},
                         status=303).headers.getall("Set-Cookie")
    wsgi.registry["db_engine"].dispose()
    assert "secure" in cookie.lower() and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    staff = [c for c in forgotten if c.startswith("lps_staff=")]
    assert staff and "secure" in staff[0].lower() and "HttpOnly" in staff[0]


# --- Security headers ---------------------------------------------------------------------------------

def test_staff_pages_send_security_headers_and_are_not_stored(testapp, operator):
    from lps_core.screens.shell.headers import CONTENT_SECURITY_POLICY

    pages = {"sign-in": testapp.get("/login"), "dashboard": sign_in(testapp, "alice", PASSWORD).follow(),
             "forbidden redirect": TestApp(testapp.app).get("/", status=303)}
    for name, page in pages.items():
        headers = page.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert headers["Cache-Control"] == "no-store", name
    policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert policy["frame-ancestors"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'" and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    static = testapp.get(pages["dashboard"].html.select_one("script[src]")["src"])
    assert static.headers["X-Content-Type-Options"] == "nosniff" and "no-store" not in static.headers["Cache-Control"]


def test_a_pages_own_policy_is_kept_and_framing_is_still_refused(testapp):
    from pyramid.events import NewResponse
    from pyramid.request import Request
    from pyramid.response import Response

    from lps_core.screens.shell.headers import add_security_headers

    response = Response(headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
    add_security_headers(NewResponse(Request.blank("/cashier/settlements/1/receipt"), response))
    assert response.headers["Content-Security-Policy"] == \
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    api = Response(json={})
    add_security_headers(NewResponse(Request.blank("/api/v1/openapi.json"), api))
    assert "Content-Security-Policy" not in api.headers and api.headers["X-Content-Type-Options"] == "nosniff"


def test_no_staff_template_has_inline_script_style_or_event_handler():
    """The policy allows no inline code: a template that brings some back would break in browsers. A
    JSON data block (<script type="application/json">, a chart's figures) is data the policy never
    runs, read by a script from a file."""
    from pathlib import Path

    import lps_core

    root = Path(lps_core.__file__).parent
    inline = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\""
                        r"|javascript:", re.I)
    found = [f"{path.relative_to(root)}: {match.group(0)}"
             for path in root.rglob("*.pt") if "receipts" not in path.parts  # receipts have their own policy
             for match in inline.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


# --- Hostile input on the sign-in and password forms ---------------------------------------------------

NUL, LONG = "a\x00b", "x" * 10_000


@pytest.mark.parametrize(("username", "password"), [
    ("alice\x00", PASSWORD), ("alice" + LONG, PASSWORD), ("alice", PASSWORD + "\x00"), ("alice", LONG), ("", PASSWORD)])
def test_a_hostile_sign_in_is_refused_by_its_shape_alone(testapp, seed, operator, username, password):
    """A value of the wrong shape is refused the same for an operator who exists and for one who
    does not: the answer depends on the text only, and no attempt counts against the account."""
    known = sign_in(testapp, username, password, status=400)
    unknown = sign_in(testapp, username.replace("alice", "nobody"), password, status=400)
    assert [p.text for p in known.html.select("p.error")] == [p.text for p in unknown.html.select("p.error")] != []
    seed.db.rollback()
    assert seed.db.scalar(select(Operator.failed_logins).where(Operator.username == "alice")) == 0
    sign_in(testapp, "alice", PASSWORD)


@pytest.mark.parametrize("new", ["second\x00pass-456", "second-pass-456" + LONG])
def test_a_hostile_new_password_is_refused_beside_the_field_and_the_old_one_kept(testapp, seed, new):
    create_operator(seed.db, "bob", PASSWORD)
    seed.db.commit()
    page = sign_in(testapp, "bob", PASSWORD).follow()
    answer = testapp.post("/password", {"password": new, "confirm": new, "csrf_token": csrf_of(page)}, status=400)
    assert answer.html.select("p.error")
    testapp.post("/logout", {"csrf_token": csrf_of(answer)})
    sign_in(testapp, "bob", PASSWORD)
