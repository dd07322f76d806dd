"""The website's sync lists on SQLite and PostgreSQL: every row once, page by page, in the order of
its change, and again after it changes; the stamps moved by the services that change rows (and not
by an earning's last-activity touch); what a page holds back near the horizon; bad input named."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from lps_core.cards.lifecycle import change_status
from lps_core.members.models import Member
from lps_core.members.services import approve_member
from lps_core.rewards.services import ANY_OUTLET, collect, create_reward
from lps_core.testing import TEST_SETTINGS
from lps_core.timeutil import isoformat, utcnow
from lps_core.website.sync import Position, encode_cursor


@pytest.fixture(scope="module")
def settled_wsgi(database_url):
    """The app with no settling time, so that a row is listed as soon as it is committed."""
    from lps_core import main

    return main({}, **{"sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "0",
                       "lps.rules.cache_seconds": "0", "lps.website.sync_settle_seconds": "0", **TEST_SETTINGS})


@pytest.fixture
def app(settled_wsgi, seed):
    return TestApp(settled_wsgi)


@pytest.fixture
def website(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['website', 'transactions', 'rewards'])}"}


def listing(app, seed, website, name, status=200, **params):
    seed.db.commit()  # the test's own session holds no transaction open (PostgreSQL's horizon waits for it)
    # The horizon excludes the moment it is read (on SQLite its millisecond: a write in that same
    # millisecond may still come), so a change committed just before would be held back one page.
    time.sleep(0.002)
    return app.get(f"/api/v1/website/{name}", params=params, headers=website, status=status).json


def drain(app, seed, website, name, **params):
    """Every page from `params` on: (ids in the order listed, the last next_cursor)."""
    ids, pages = [], 0
    while True:
        page = listing(app, seed, website, name, **params)
        ids += [row["id"] for row in page["data"]]
        pages += 1
        params = {"cursor": page["next_cursor"], "limit": params.get("limit", 100)}
        if not page["more"]:
            return ids, page["next_cursor"]
        assert pages < 50


def members(seed, count):
    """Enrol and approve `count` members; their ids in that order. Commits."""
    return [_member_of(seed, seed.member_card(name=f"Member {number}")) for number in range(count)]


def _member_of(seed, card_no):
    from lps_core.cards.models import Card

    return seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))


def test_members_are_listed_once_each_page_by_page_and_again_when_they_change(app, seed, website):
    ids = members(seed, 5)
    listed, cursor = drain(app, seed, website, "members", limit=2)
    assert listed == ids
    page = listing(app, seed, website, "members", cursor=cursor)
    assert (page["data"], page["more"], page["next_cursor"]) == ([], False, cursor)
    # A change moves the member to the end: the next call from the stored cursor brings only it.
    seed.db.execute(update(Member).where(Member.id == ids[1]).values(name="Member One Renamed"))
    page = listing(app, seed, website, "members", cursor=cursor)
    assert [(row["id"], row["name"]) for row in page["data"]] == [(ids[1], "Member One Renamed")]
    first = listing(app, seed, website, "members", limit=1)["data"][0]
    assert set(first) >= {"id", "name", "status", "tier", "cards", "phone", "updated_at"}
    assert first["cards"][0]["status"] == "active" and first["tier"]["code"] == "classic"


def test_a_card_change_and_an_approval_move_the_member_an_earning_does_not(app, seed, website):
    card_no = seed.member_card(name="Holder")
    _, cursor = drain(app, seed, website, "members")
    app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B1", "amount": "50.00"}, headers=website,
                  status=201)
    assert listing(app, seed, website, "members", cursor=cursor)["data"] == []
    change_status(seed.db, card_no, "frozen", "reported lost by phone")
    page = listing(app, seed, website, "members", cursor=cursor)
    assert [card["status"] for row in page["data"] for card in row["cards"]] == ["frozen"]
    from lps_core.members.services import Enrolment, enrol_member

    pending = enrol_member(seed.db, Enrolment(name="Newcomer", channel="web", email="new@example.com"))
    listed, cursor = drain(app, seed, website, "members", cursor=page["next_cursor"])
    assert listed == [pending]
    approve_member(seed.db, pending)
    page = listing(app, seed, website, "members", cursor=cursor)
    assert [(row["id"], row["status"]) for row in page["data"]] == [(pending, "active")]


def test_changed_since_starts_the_sync_at_a_moment(app, seed, website):
    old = members(seed, 2)
    seed.db.execute(update(Member).where(Member.id.in_(old)).values(updated_at=utcnow() - timedelta(days=3)))
    seed.db.commit()
    recent = members(seed, 1)
    since = isoformat(utcnow() - timedelta(days=1))
    assert drain(app, seed, website, "members", changed_since=since)[0] == recent
    assert drain(app, seed, website, "members")[0] == old + recent


def test_bills_come_again_when_refunded_with_what_the_refund_took(app, seed, website):
    card_no = seed.member_card()
    bill = app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B1", "amount": "100.00"},
                         headers=website, status=201).json
    page = listing(app, seed, website, "bills")
    assert [(row["bill_no"], row["amount"], row["points"], row["refunds"]["count"]) for row in page["data"]] == \
        [("B1", "100.00", 100, 0)]
    app.post_json(f"/api/v1/transactions/{bill['id']}/reversal", {"amount": "40.00", "refund_no": "R1"},
                  headers=website, status=201)
    again = listing(app, seed, website, "bills", cursor=page["next_cursor"])
    assert [row["refunds"] for row in again["data"]] == [{"count": 1, "amount": "40.00", "points": 40}]
    entries, _ = drain(app, seed, website, "ledger-entries")
    rows = listing(app, seed, website, "ledger-entries")["data"]
    assert [(row["kind"], row["amount"], row["bill_no"], row["account"]) for row in rows] == \
        [("earn", 100, "B1", "points"), ("reversal", -40, "B1", "points")]
    assert entries == sorted(entries)


def test_redemptions_come_again_when_collected(app, seed, website):
    card_no = seed.member_card()
    app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B1", "amount": "500.00"}, headers=website,
                  status=201)
    create_reward(seed.db, "MUG", {"name": "Mug", "category": "item", "cost_cents": 100, "points_price": 200})
    seed.db.commit()
    made = app.post_json("/api/v1/redemptions", {"card_no": card_no, "reward": "MUG", "request_no": "Q1",
                                                 "collection": "later"}, headers=website, status=201).json
    page = listing(app, seed, website, "redemptions")
    assert [(row["no"], row["status"]) for row in page["data"]] == [(made["no"], "awaiting_pickup")]
    collect(seed.db, made["no"], outlets=ANY_OUTLET)
    again = listing(app, seed, website, "redemptions", cursor=page["next_cursor"])
    assert [(row["no"], row["status"]) for row in again["data"]] == [(made["no"], "collected")]


def test_settlements_are_listed_with_their_tenders(app, seed, website):
    card_no = seed.member_card()
    cashier = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cashier'])}"}
    settled = app.post_json("/api/v1/settlements", {
        "card_no": card_no, "bill_no": "S1", "items": [{"sku": "TEA", "category": "food", "qty": 1, "amount": "30.00"}],
        "tenders": [{"kind": "cash", "amount": "30.00"}]}, headers=cashier, status=201).json
    page = listing(app, seed, website, "settlements")
    assert [(row["bill_no"], row["charged"], row["tenders"]) for row in page["data"]] == \
        [("S1", "30.00", [{"kind": "cash", "amount": "30.00"}])]
    app.post_json(f"/api/v1/settlements/{settled['id']}/refunds", {"refund_no": "R1", "amount": "10.00"},
                  headers=cashier, status=201)
    again = listing(app, seed, website, "settlements", cursor=page["next_cursor"])
    assert [row["refunds"]["amount"] for row in again["data"]] == ["10.00"]


def test_a_page_stops_short_of_the_settling_time(testapp, seed, website):
    """With the default two seconds, a row committed just now waits for a later page; the cursor of
    the empty page then still finds it."""
    seed.member_card()
    seed.db.commit()
    page = testapp.get("/api/v1/website/members", headers=website).json
    assert page["data"] == [] and page["more"] is False
    time.sleep(2.1)
    assert len(testapp.get("/api/v1/website/members", params={"cursor": page["next_cursor"]},
                           headers=website).json["data"]) == 1


def test_bad_sync_input_is_named(app, seed, website):
    assert set(listing(app, seed, website, "members", status=400, cursor="not a cursor!")["fields"]) == {"cursor"}
    made_up = listing(app, seed, website, "bills", status=422, cursor="A" * 23)
    assert set(made_up["fields"]) == {"cursor"}
    assert set(listing(app, seed, website, "settlements", status=400, changed_since="yesterday")["fields"]) == \
        {"changed_since"}
    assert set(listing(app, seed, website, "redemptions", status=400, changed_since="2026-01-01T00:00:00")[
        "fields"]) == {"changed_since"}
    assert set(listing(app, seed, website, "ledger-entries", status=400, limit="501")["fields"]) == {"limit"}
    assert set(listing(app, seed, website, "members", status=400, changedSince="2026-01-01")["fields"]) == \
        {"changedSince"}


def test_a_cursor_carries_its_position_exactly():
    from lps_core.website.sync import decode_cursor

    position = Position(utcnow().replace(microsecond=123456), 2**40)
    cursor = encode_cursor(position)
    assert len(cursor) == 23 and decode_cursor(cursor) == position


def test_a_transaction_still_open_holds_the_page_back_until_it_commits(app, seed, website, test_engine, database_url):
    """PostgreSQL stamps a change with its transaction's start. A member changed by a slow transaction
    must not fall behind the cursor of a member changed, and listed, while it was still open."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writing transaction at a time")
    [first] = members(seed, 1)
    _, cursor = drain(app, seed, website, "members")
    with test_engine.connect() as slow:
        slow.execute(update(Member).where(Member.id == first).values(name="Changed Slowly"))  # stamped now
        [second] = members(seed, 1)  # changed and committed after the slow one began
        page = listing(app, seed, website, "members", cursor=cursor)
        assert page["data"] == []  # the second waits behind the open transaction
        slow.commit()
    page = listing(app, seed, website, "members", cursor=page["next_cursor"])
    assert [(row["id"], row["name"]) for row in page["data"]] == [(first, "Changed Slowly"), (second, "Member 0")]


def test_the_openapi_document_shows_the_website_operations(app):
    document = app.get("/api/v1/openapi.json").json
    paths = {path: set(methods) for path, methods in document["paths"].items() if path.startswith("/api/v1/website/")}
    assert paths == {
        "/api/v1/website/signups": {"post"}, "/api/v1/website/signups/{reference}": {"get"},
        "/api/v1/website/sign-in": {"post"}, "/api/v1/website/handover": {"post"},
        "/api/v1/website/members": {"get"}, "/api/v1/website/members/{id}": {"get"},
        "/api/v1/website/members/{id}/ledger": {"get"}, "/api/v1/website/members/{id}/tier": {"get"},
        "/api/v1/website/members/{id}/rewards": {"get"}, "/api/v1/website/members/{id}/reservations": {"post"},
        "/api/v1/website/members/{id}/reservations/{no}/cancel": {"post"},
        "/api/v1/website/bills": {"get"}, "/api/v1/website/settlements": {"get"},
        "/api/v1/website/redemptions": {"get"}, "/api/v1/website/ledger-entries": {"get"}}
    listing = document["paths"]["/api/v1/website/bills"]["get"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in listing["parameters"]}
    assert set(parameters) == {"changed_since", "cursor", "limit"}
    assert parameters["cursor"]["anyOf"][0]["pattern"] == "^[A-Za-z0-9_-]{23}$"
    assert parameters["limit"]["maximum"] == 500
    assert {"200", "400", "401", "403", "422"} <= set(listing["responses"])
    assert listing["summary"].endswith("(scope website)")
