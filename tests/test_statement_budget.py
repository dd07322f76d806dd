"""The number of statements the hot API requests send to PostgreSQL, counted, not timed.

Each round trip to the database costs more than the Python around it, and a new one is easy to add
without noticing (that is how the earn request went from 8 to 11). A count is deterministic where a
timing test is noisy, so each request below has a budget, set to what the code does today, and the
test fails when a change adds a statement. Counted as bench/roundtrips.py counts them: every
statement the engine sends, plus BEGIN and COMMIT. The round trips are counted too, from libpq's
trace of the protocol: BEGIN travels with the first statement (lps_core.db.begin; the suite
pipelines it on every connection, as a server on another host gets it), so a request waits for
PostgreSQL one time fewer than it sends statements. The app runs with its caches on, as in
production, and each request is measured after a warm-up request of its kind has filled them.

Lowering a budget is welcome; raising one needs a reason in the commit message."""
import pytest
from sqlalchemy import event

from lps_core.testing import round_trips

# Issue 11's target for the earn request: BEGIN, the card, one statement that claims the bill,
# posts the entry, opens the lot, moves the balance and counts the activity, COMMIT.
EARN_BUDGET = 4
EARN_ROUND_TRIPS = 3  # the card with BEGIN, the claim, COMMIT
# The settlement reads its card with type, member and tier in one statement and builds its answer
# in three; its earning still reads the card again and checks for a tier change since the bill.
SETTLEMENT_BUDGET = 14
CARD_LOOKUP_BUDGET = 3


def statements_of(statements, send):
    statements.clear()
    send()
    return list(statements)


def assert_within(budget, sent):
    assert len(sent) <= budget, f"{len(sent)} statements, budget {budget}:\n" + "\n".join(sent)


def round_trips_of(app, send) -> int:
    with round_trips(app.app.registry["db_engine"]) as lines:
        send()
    return sum("ReadyForQuery" in line for line in lines)


def test_an_earn_request_stays_within_its_statement_budget(counted_app, seed):
    app, statements = counted_app
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    card_no = seed.member_card()

    def earn(bill_no):
        app.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": "123.45"},
                      headers=auth, status=201)

    earn("warm-up")
    assert_within(EARN_BUDGET, statements_of(statements, lambda: earn("B1")))
    assert round_trips_of(app, lambda: earn("B2")) <= EARN_ROUND_TRIPS


def test_the_earn_statements_stay_small_enough_for_psycopgs_query_cache(database_url, seed):
    """psycopg converts a query's placeholders once and caches the result, but only for a query of
    at most 4,096 characters and 50 parameters; a longer one is converted again on every request
    (about 70 microseconds for the claim-and-credit statement). Count what the engine sends."""
    if not database_url.startswith("postgresql"):
        pytest.skip("psycopg's cache is PostgreSQL's")
    from psycopg import _queries
    from webtest import TestApp

    from lps_core import main
    from lps_core.testing import TEST_SETTINGS

    wsgi = main({}, **{"sqlalchemy.url": database_url, **TEST_SETTINGS})
    sent = []
    event.listen(wsgi.registry["db_engine"], "before_cursor_execute",
                 lambda conn, cursor, statement, parameters, *rest: sent.append((statement, parameters)))
    TestApp(wsgi).post_json("/api/v1/transactions", {"card_no": seed.member_card(), "bill_no": "B1", "amount": "1.00"},
                            headers={"Authorization": f"Bearer {seed.api_key('REST')}"}, status=201)
    wsgi.registry["db_engine"].dispose()
    too_big = [(len(statement), len(parameters), statement[:80]) for statement, parameters in sent
               if len(statement) > _queries.MAX_CACHED_STATEMENT_LENGTH
               or len(parameters) > _queries.MAX_CACHED_STATEMENT_PARAMS]
    assert sent and too_big == []


def test_a_settlement_stays_within_its_statement_budget(counted_app, seed):
    app, statements = counted_app
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    card_no = seed.member_card()

    def settle(bill_no):
        app.post_json("/api/v1/settlements", {
            "card_no": card_no, "bill_no": bill_no, "tenders": [{"kind": "cash", "amount": "100.00"}],
            "items": [{"sku": "STEAK", "category": "food", "qty": "1", "amount": "100.00"}]}, headers=auth, status=201)

    settle("warm-up")
    assert_within(SETTLEMENT_BUDGET, statements_of(statements, lambda: settle("S1")))
    assert round_trips_of(app, lambda: settle("S2")) <= SETTLEMENT_BUDGET - 1


def test_a_card_look_up_stays_within_its_statement_budget(counted_app, seed):
    app, statements = counted_app
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    card_no = seed.member_card()

    def look_up():
        app.get(f"/api/v1/cards/{card_no}", headers=auth, status=200)

    look_up()
    assert_within(CARD_LOOKUP_BUDGET, statements_of(statements, look_up))
    assert round_trips_of(app, look_up) <= CARD_LOOKUP_BUDGET - 1
