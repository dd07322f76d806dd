"""Terminals: registered and revoked on the staff screen (key shown once, stored hashed, audited),
the terminal API (a swipe stored once by its id, a tag resolved to its card, a revoked key refused)
and the cashier screen's poll (only its operator's swipes at its outlet, each to one screen, never
an expired one). Both databases."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lps_core.terminals.models import Terminal, TerminalSwipe
from lps_core.testing import audited, sign_in_as


def _register(testapp, csrf, name="Till 1", outlet="REST", operators=()):
    return testapp.post("/config/terminals/new", [("csrf_token", csrf), ("name", name), ("outlet", outlet)]
                        + [("operators", str(o)) for o in operators])


def _operator_id(db, username):
    from lps_core.operators.models import Operator
    db.rollback()
    operator_id = db.scalar(select(Operator.id).where(Operator.username == username))
    db.rollback()  # end the read, so that the test's own writes do not meet a stale snapshot
    return operator_id


@pytest.fixture
def admin(testapp, seed):
    return sign_in_as(testapp, seed, "admin.t", "Correct-horse-9", ["administrator"], [])


def _key_of(page) -> str:
    import re
    return re.search(r'id="terminal-key">(lpt_[^<]+)<', page.text).group(1)


def swipe(testapp, key, *, status=201, **body):
    body.setdefault("id", str(uuid.uuid4()))
    body.setdefault("expires_in", 30)
    return testapp.post_json("/api/v1/terminal/swipes", body, headers={"Authorization": f"Bearer {key}"},
                             status=status)


def test_a_terminal_is_registered_with_its_key_shown_once_and_stored_hashed(testapp, seed, admin):
    admin_id = _operator_id(seed.db, "admin.t")
    page = _register(testapp, admin, operators=[admin_id])
    assert page.status_int == 200 and page.headers["Cache-Control"] == "no-store"
    key = _key_of(page)
    seed.db.rollback()
    terminal = seed.db.scalar(select(Terminal))
    assert terminal.name == "Till 1" and key.split("_")[1] == terminal.prefix
    assert key.split("_", 2)[2] not in terminal.secret_hash
    listing = testapp.get("/config/terminals")
    assert "Till 1" in listing.text and key not in listing.text
    [entry] = audited(seed.db, "terminal.create")
    assert entry.after["operators"] == ["admin.t"] and key not in str(entry.after)
    assert testapp.get("/api/v1/terminal", headers={"Authorization": f"Bearer {key}"}).json["outlet"] == "REST"


def test_a_terminal_must_feed_cashiers_of_its_outlet(testapp, seed, admin):
    from lps_core.operators.services import create_operator
    create_operator(seed.db, "spa.cashier", "Correct-horse-9", roles=["cashier"], outlets=["SPA"],
                    must_change_password=False)
    seed.db.commit()
    page = testapp.post("/config/terminals/new", [("csrf_token", admin), ("name", "Till 2"), ("outlet", "REST"),
                                                  ("operators", str(_operator_id(seed.db, "spa.cashier")))], status=400)
    assert "choose cashiers of the terminal" in page.text
    no_name = testapp.post("/config/terminals/new", [("csrf_token", admin), ("name", " "), ("outlet", "REST")],
                           status=400)
    assert 'aria-invalid="true"' in no_name.text
    seed.db.rollback()
    assert seed.db.scalar(select(Terminal)) is None


def test_a_swipe_is_stored_once_by_its_id_and_a_tag_is_resolved_to_its_card(testapp, seed, admin):
    from lps_core.cards.tags import register_tag
    admin_id = _operator_id(seed.db, "admin.t")
    key = _key_of(_register(testapp, admin, operators=[admin_id]))
    card_no = seed.member_card()
    register_tag(seed.db, card_no, "0A1B2C3D4E")
    seed.db.commit()
    first = swipe(testapp, key, id="swipe-0001", card_no=card_no)
    assert first.json == {"id": "swipe-0001", "duplicate": False, "card_found": True}
    again = swipe(testapp, key, id="swipe-0001", card_no=card_no, status=200)
    assert again.json["duplicate"] is True
    tag = swipe(testapp, key, id="swipe-0002", tag_id="0a:1b:2c:3d:4e")
    assert tag.json["card_found"] is True
    unknown = swipe(testapp, key, id="swipe-0003", tag_id="FFFF000011")
    assert unknown.json["card_found"] is False
    seed.db.rollback()
    rows = seed.db.scalars(select(TerminalSwipe).order_by(TerminalSwipe.id)).all()
    assert [(r.swipe_id, r.card_no) for r in rows] == [("swipe-0001", card_no), ("swipe-0002", card_no),
                                                       ("swipe-0003", None)]


@pytest.mark.parametrize("body, field, status", [
    ({"card_no": "8800000000000000", "tag_id": "0A1B2C3D4E"}, "card_no", 422),
    ({}, "card_no", 422),
    ({"card_no": "12"}, "card_no", 400),
    ({"card_no": "8800000000000013", "expires_in": 0}, "expires_in", 400),
    ({"card_no": "8800000000000013", "id": "x"}, "id", 400),
    ({"card_no": "8800000000000013", "pin": "1234"}, "pin", 400),
])
def test_a_bad_swipe_is_4xx_naming_the_field(testapp, seed, admin, body, field, status):
    key = _key_of(_register(testapp, admin, operators=[_operator_id(seed.db, "admin.t")]))
    answer = swipe(testapp, key, status=status, **body)
    assert field in answer.json["fields"]


def test_a_revoked_or_wrong_key_is_refused(testapp, seed, admin):
    key = _key_of(_register(testapp, admin, operators=[_operator_id(seed.db, "admin.t")]))
    seed.db.rollback()
    terminal_id = seed.db.scalar(select(Terminal.id))
    testapp.post(f"/config/terminals/{terminal_id}/revoke", {"csrf_token": admin}, status=303)
    assert len(audited(seed.db, "terminal.revoke")) == 1
    answer = swipe(testapp, key, status=401, card_no="8800000000000013")
    assert answer.json["fields"] == {"Authorization": "invalid terminal key"}
    testapp.get("/api/v1/terminal", headers={"Authorization": f"Bearer {key}"}, status=401)
    swipe(testapp, key.replace("lpt_", "lps_"), status=401, card_no="8800000000000013")
    swipe(testapp, key[:-2] + "xx", status=401, card_no="8800000000000013")


def _poll(testapp, csrf, outlet="REST", status=200):
    return testapp.post(f"/cashier/swipes?outlet={outlet}", headers={"X-CSRF-Token": csrf}, status=status)


@pytest.fixture
def short_polls(wsgi_app):
    """Polls that wait one second for a swipe (20 by default), restored after the test."""
    from lps_core.terminals.waiting import ISwipeWaiters, PollSettings
    waiters = wsgi_app.registry.getUtility(ISwipeWaiters)
    kept, waiters.settings = waiters.settings, PollSettings(poll_seconds=1, max_waiting=4)
    yield waiters
    waiters.settings = kept


def test_the_cashier_screen_takes_its_swipes_once_and_never_an_expired_one(wsgi_app, testapp, seed, admin,
                                                                          short_polls):
    from webtest import TestApp
    key = _key_of(_register(testapp, admin, operators=[_operator_id(seed.db, "admin.t")]))
    card_no = seed.member_card()
    swipe(testapp, key, id="swipe-live-1", card_no=card_no)
    swipe(testapp, key, id="swipe-expired", card_no=card_no)
    seed.db.execute(update(TerminalSwipe).where(TerminalSwipe.swipe_id == "swipe-expired")
                    .values(expires_at=TerminalSwipe.received_at - timedelta(seconds=1)))
    seed.db.commit()
    other = TestApp(wsgi_app)
    other_csrf = sign_in_as(other, seed, "cashier.b", "Correct-horse-9", ["cashier"], ["REST"])
    taken = _poll(testapp, admin).json
    assert [(s["card_no"], s["terminal"]) for s in taken["swipes"]] == [(card_no, "Till 1")]
    swipe(testapp, key, id="swipe-live-2", card_no=card_no)
    assert _poll(other, other_csrf).json["swipes"] == []  # not a cashier this terminal feeds
    assert len(_poll(testapp, admin).json["swipes"]) == 1
    assert _poll(testapp, admin, outlet="NOPE", status=400).json["fields"] == {"outlet": "no such outlet"}
    testapp.post("/cashier/swipes?outlet=REST", status=400)  # no CSRF token


def test_a_waiting_poll_receives_a_swipe_as_soon_as_it_arrives(wsgi_app, testapp, seed, admin):
    import threading
    import time

    from lps_core.terminals.waiting import ISwipeWaiters, PollSettings
    waiters = wsgi_app.registry.getUtility(ISwipeWaiters)
    kept, waiters.settings = waiters.settings, PollSettings(poll_seconds=15, max_waiting=4)
    try:
        key = _key_of(_register(testapp, admin, operators=[_operator_id(seed.db, "admin.t")]))
        card_no = seed.member_card()
        answer = {}
        started = time.monotonic()
        poll = threading.Thread(target=lambda: answer.update(_poll(testapp, admin).json))
        poll.start()
        time.sleep(1)
        swipe(testapp, key, card_no=card_no)
        poll.join(20)
        assert [s["card_no"] for s in answer["swipes"]] == [card_no]
        assert time.monotonic() - started < 10
    finally:
        waiters.settings = kept


def test_a_newer_page_of_the_cashier_supersedes_a_poll_left_waiting(wsgi_app, testapp, seed, admin):
    """A browser that left the page cannot call its poll back: the poll of the page it went to
    ends the old one, which takes nothing, so the next swipe reaches the page on screen."""
    import threading
    import time

    from lps_core.terminals.waiting import ISwipeWaiters, PollSettings
    waiters = wsgi_app.registry.getUtility(ISwipeWaiters)
    kept, waiters.settings = waiters.settings, PollSettings(poll_seconds=15, max_waiting=4)
    try:
        key = _key_of(_register(testapp, admin, operators=[_operator_id(seed.db, "admin.t")]))
        card_no = seed.member_card()
        answers = {}

        def poll(page):
            answers[page] = testapp.post(f"/cashier/swipes?outlet=REST&page={page}",
                                         headers={"X-CSRF-Token": admin}).json

        left = threading.Thread(target=poll, args=("page-left",))
        left.start()
        time.sleep(1)
        shown = threading.Thread(target=poll, args=("page-shown",))
        shown.start()
        left.join(10)
        assert answers["page-left"]["swipes"] == []
        time.sleep(0.5)
        swipe(testapp, key, card_no=card_no)
        shown.join(20)
        assert [s["card_no"] for s in answers["page-shown"]["swipes"]] == [card_no]
    finally:
        waiters.settings = kept


def test_a_terminal_is_renamed_and_its_cashiers_changed_within_the_operators_outlets(wsgi_app, testapp, seed, admin):
    from webtest import TestApp
    admin_id = _operator_id(seed.db, "admin.t")
    _register(testapp, admin, operators=[admin_id])
    seed.db.rollback()
    terminal_id = seed.db.scalar(select(Terminal.id))
    seed.db.rollback()
    page = testapp.get(f"/config/terminals/{terminal_id}")
    assert 'id="operator-admin.t"' in page.text and "checked" in page.text
    testapp.post(f"/config/terminals/{terminal_id}", [("csrf_token", admin), ("name", "Bar till"),
                                                      ("operators", str(admin_id))], status=303)
    [entry] = audited(seed.db, "terminal.update")
    assert (entry.before["name"], entry.after["name"]) == ("Till 1", "Bar till")
    testapp.post(f"/config/terminals/{terminal_id}", [("csrf_token", admin), ("name", "Bar till")], status=400)

    spa = TestApp(wsgi_app)
    spa_csrf = sign_in_as(spa, seed, "spa.manager", "Correct-horse-9", ["outlet_manager"], ["SPA"])
    assert "Bar till" not in spa.get("/config/terminals").text
    spa.get(f"/config/terminals/{terminal_id}", status=403)
    spa.post(f"/config/terminals/{terminal_id}/revoke", {"csrf_token": spa_csrf}, status=403)
    spa.post("/config/terminals/new", [("csrf_token", spa_csrf), ("name", "X"), ("outlet", "REST")], status=403)


def test_a_poll_beyond_max_waiting_is_answered_at_once_with_when_to_ask_again(wsgi_app, testapp, seed, admin):
    import time

    from lps_core.terminals.waiting import ISwipeWaiters, PollSettings
    waiters = wsgi_app.registry.getUtility(ISwipeWaiters)
    kept, waiters.settings = waiters.settings, PollSettings(poll_seconds=15, max_waiting=0)
    try:
        started = time.monotonic()
        answer = _poll(testapp, admin).json
        assert answer == {"swipes": [], "poll_again_ms": 3000} and time.monotonic() - started < 5
    finally:
        waiters.settings = kept
