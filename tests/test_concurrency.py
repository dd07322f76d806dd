"""Real concurrency: threads posting over HTTP to a waitress server, and threads debiting one
account, each in its own transaction. Runs on PostgreSQL (row locks) and on SQLite (BEGIN IMMEDIATE)."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lps_core.earning.models import Bill
from lps_core.errors import InsufficientBalance
from lps_core.ledger import services as ledger
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry
from lps_core.testing import SERVER_THREADS as CLIENTS
from lps_core.testing import post_all_at_once as post_at_once
from lps_core.timeutil import utcnow


def post_all_at_once(port, key, bodies):
    return post_at_once(port, "/api/v1/transactions", bodies, {"Authorization": f"Bearer {key}"})


def test_twenty_simultaneous_posts_of_one_bill_post_once(server, seed):
    card_no = seed.member_card()
    body = {"card_no": card_no, "bill_no": "SAME-1", "amount": "250.00"}
    results = post_all_at_once(server, seed.api_key(), [body] * CLIENTS)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (CLIENTS - 1) + [201]
    assert {answer["id"] for _, answer in results} == {results[0][1]["id"]}
    assert {answer["points_balance"] for _, answer in results} == {250}
    assert seed.db.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    assert find_drift(seed.db) == []


def test_simultaneous_posts_of_one_bill_with_different_bodies_conflict(server, seed):
    card_no = seed.member_card()
    bodies = [{"card_no": card_no, "bill_no": "SAME-2", "amount": f"{100 + n}.00"} for n in range(CLIENTS)]
    statuses = sorted(status for status, _ in post_all_at_once(server, seed.api_key(), bodies))
    assert statuses == [201] + [409] * (CLIENTS - 1)
    assert seed.db.scalar(select(func.count()).select_from(Bill)) == 1


def test_simultaneous_bills_for_one_member_all_count(server, seed):
    card_no = seed.member_card()
    bodies = [{"card_no": card_no, "bill_no": f"P{n}", "amount": "10.00"} for n in range(CLIENTS)]
    results = post_all_at_once(server, seed.api_key(), bodies)
    assert [status for status, _ in results] == [201] * CLIENTS
    assert max(answer["points_balance"] for _, answer in results) == 10 * CLIENTS
    assert find_drift(seed.db) == []


def test_simultaneous_debits_never_overdraw(seed, engine):
    account = seed.points_account(seed.member_card())
    ledger.credit(seed.db, account, 150, kind=ledger.EARN, business_key="seed", fingerprint="seed",
                  expires_at=utcnow() + timedelta(days=30))
    seed.db.commit()
    barrier = threading.Barrier(CLIENTS)

    def spend(n):
        with Session(engine) as db, db.begin():
            barrier.wait()
            try:
                ledger.debit(db, account, 10, business_key=f"spend-{n}", fingerprint=f"spend-{n}")
                return "ok"
            except InsufficientBalance:
                return "refused"

    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(spend, range(CLIENTS)))
    assert sorted(outcomes) == ["ok"] * 15 + ["refused"] * 5
    assert ledger.balance_of(seed.db, account) == 0
    assert find_drift(seed.db) == []
