"""Staff sessions live on the server: a cookie kept after sign-out, a password change or the
operator being disabled no longer signs anyone in; and a failed sign-in says nothing about the account."""
import re
import time

import pytest
from sqlalchemy import select
from webtest import TestApp

from lps_core.audit.services import SYSTEM
from lps_core.operators.models import Operator, StaffSession
from lps_core.operators.services import MAX_FAILED_LOGINS, create_operator, set_active
from lps_core.operators.sessions import session_count
from lps_core.testing import csrf_of

PASSWORD = "first-pass-123"


@pytest.fixture
def alice(seed):
    operator_id = create_operator(seed.db, "alice", PASSWORD, display_name="Alice Chen", roles=["administrator"],
                                  must_change_password=False)
    seed.db.commit()
    return operator_id


def browser(wsgi_app, address="198.51.100.1"):
    return TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": address})


def sign_in(app, username="alice", password=PASSWORD, status=303):
    page = app.get("/login")
    return app.post("/login", {"username": username, "password": password, "csrf_token": csrf_of(page)},
                    status=status)


def staff_cookie(app):
    return app.cookies["lps_staff"]


def replay(wsgi_app, cookies):
    """A browser that sends exactly the cookies saved earlier."""
    app = browser(wsgi_app, "198.51.100.99")
    for name, value in cookies.items():
        app.set_cookie(name, value)
    return app


def test_the_cookie_holds_only_a_random_token_whose_hash_is_stored(wsgi_app, seed, alice):
    app = browser(wsgi_app)
    sign_in(app)
    token = staff_cookie(app)
    assert len(token) >= 43 and str(alice) != token
    seed.db.rollback()
    stored = seed.db.scalars(select(StaffSession.token_hash).where(StaffSession.operator_id == alice)).all()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64


def test_a_cookie_saved_before_sign_out_is_refused_after(wsgi_app, seed, alice):
    app = browser(wsgi_app)
    home = sign_in(app).follow()
    saved = dict(app.cookies)
    assert "Alice Chen" in replay(wsgi_app, saved).get("/").text  # the saved cookie works while signed in
    app.post("/logout", {"csrf_token": csrf_of(home)}, status=303)
    assert replay(wsgi_app, saved).get("/", status=303).location.endswith("/login?next=%2F")
    seed.db.rollback()
    assert session_count(seed.db, alice) == 0


def test_a_password_change_ends_the_other_sessions(wsgi_app, seed, alice):
    desk, office = browser(wsgi_app, "198.51.100.1"), browser(wsgi_app, "198.51.100.2")
    sign_in(desk)
    home = sign_in(office).follow()
    saved_office = dict(office.cookies)
    office.post("/password", {"password": "second-pass-456", "confirm": "second-pass-456",
                              "csrf_token": csrf_of(home)}, status=303)
    assert "Alice Chen" in office.get("/").text  # the browser that changed it carries on, with a new session
    assert office.cookies["lps_staff"] != saved_office["lps_staff"]
    desk.get("/", status=303)
    replay(wsgi_app, saved_office).get("/", status=303)
    seed.db.rollback()
    assert session_count(seed.db, alice) == 1


def test_an_administrator_resetting_a_password_ends_every_session_of_that_operator(wsgi_app, seed, alice):
    from lps_core.operators.services import set_password

    app = browser(wsgi_app)
    sign_in(app)
    set_password(seed.db, alice, "reset-pass-789", must_change_password=True, actor=SYSTEM)
    seed.db.commit()
    app.get("/", status=303)


def test_deactivation_ends_the_operators_sessions(wsgi_app, seed, alice):
    app = browser(wsgi_app)
    sign_in(app)
    saved = dict(app.cookies)
    app.get("/", status=200)
    set_active(seed.db, alice, False, actor=SYSTEM)
    seed.db.commit()
    assert session_count(seed.db, alice) == 0
    app.get("/", status=303)
    set_active(seed.db, alice, True, actor=SYSTEM)  # enabled again: the old cookie still signs in nobody
    seed.db.commit()
    replay(wsgi_app, saved).get("/", status=303)


def test_a_forged_or_missing_token_signs_in_nobody(wsgi_app, seed, alice):
    for token in ("", "x", "lps" * 40, str(alice)):
        replay(wsgi_app, {"lps_staff": token}).get("/", status=303)


def _answer(app, username, password):
    response = sign_in(app, username, password, status=400)
    body = re.sub(r'name="csrf_token" value="[^"]+"', "", response.text).replace(f'value="{username}"', 'value="#"')
    return response.status_int, response.content_type, body


def test_unknown_locked_and_wrong_password_get_the_same_answer(wsgi_app, seed, alice):
    create_operator(seed.db, "bob", PASSWORD, roles=["cashier"], outlets=["REST"], must_change_password=False)
    carol = create_operator(seed.db, "carol", PASSWORD, roles=["cashier"], outlets=["REST"],
                            must_change_password=False)
    set_active(seed.db, carol, False, actor=SYSTEM)
    seed.db.commit()
    for n in range(MAX_FAILED_LOGINS):  # lock bob's account
        _answer(browser(wsgi_app, f"198.51.100.{10 + n}"), "bob", "wrong-pass-000")
    seed.db.rollback()
    assert seed.db.scalar(select(Operator.locked_until).where(Operator.username == "bob")) is not None
    answers = {
        "unknown": _answer(browser(wsgi_app, "198.51.100.20"), "nobody", PASSWORD),
        "locked, right password": _answer(browser(wsgi_app, "198.51.100.21"), "bob", PASSWORD),
        "disabled": _answer(browser(wsgi_app, "198.51.100.22"), "carol", PASSWORD),
        "wrong password": _answer(browser(wsgi_app, "198.51.100.23"), "alice", "wrong-pass-000"),
    }
    assert len(set(answers.values())) == 1, answers
    assert "The user name or password is not right." in answers["unknown"][2]


def test_an_unknown_user_costs_the_same_password_check_as_a_known_one(seed, alice):
    """Timing: without the dummy argon2 check an unknown name answered about a hundred times faster.
    The two are measured in turns, and the fastest of each compared, so that the load of a busy
    machine falls on both alike."""
    from lps_core.operators.services import sign_in as check

    times = {"nobody": [], "alice": []}
    for attempt in range(6):
        for username in times:
            start = time.perf_counter()
            assert check(seed.db, username, "wrong-pass-000", address=f"192.0.2.{attempt}").operator_id is None
            times[username].append(time.perf_counter() - start)
            seed.db.rollback()
    unknown, known = min(times["nobody"]), min(times["alice"])
    assert unknown > 0.3 * known, (unknown, known)
