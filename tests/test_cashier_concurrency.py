"""Simultaneous settlements on one stored-value card over real HTTP (waitress): never an
overdraft, never a double settlement, never a drift. PostgreSQL locks rows; SQLite serializes."""

import pytest
from sqlalchemy import func, insert, select

from lps_core.cards.models import CardType
from lps_core.cashier.models import Settlement
from lps_core.ledger.check import find_drift
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.testing import SERVER_THREADS as CLIENTS
from lps_core.testing import post_all_at_once as post_at_once



@pytest.fixture
def wallet_card(seed):
    seed.db.execute(insert(CardType).values(code="wallet", name="Wallet", prefix="8803", stored_value=True))
    member_id = enrol_member(seed.db, Enrolment(name="Ma Lin", channel="desk", phone="+8613900000001"))
    card_no = approve_member(seed.db, member_id, card_type_code="wallet")
    seed.db.commit()
    return card_no


def post_all_at_once(port, key, path, bodies):
    return post_at_once(port, path, bodies, {"Authorization": f"Bearer {key}"})


def test_simultaneous_payments_never_overdraw_the_card(server, seed, wallet_card):
    key = seed.api_key("REST")
    [(status, _)] = post_all_at_once(server, key, f"/api/v1/cards/{wallet_card}/deposits",
                                     [{"deposit_no": "D1", "amount": "500.00", "tender": "cash"}])
    assert status == 201
    bodies = [{"card_no": wallet_card, "bill_no": f"B{n}", "amount": "50.00",
               "tenders": [{"kind": "stored_value", "amount": "50.00"}]} for n in range(CLIENTS)]
    results = post_all_at_once(server, key, "/api/v1/settlements", bodies)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 10 + [409] * 10
    refused = [answer for status, answer in results if status == 409]
    assert all(answer["code"] == "insufficient_balance" for answer in refused)
    assert min(answer["balances"]["stored_value"] for status, answer in results if status == 201) == "0.00"
    assert seed.db.scalar(select(func.count()).select_from(Settlement)) == 10
    assert find_drift(seed.db) == []


def test_simultaneous_posts_of_one_settlement_settle_once(server, seed, wallet_card):
    key = seed.api_key("REST")
    post_all_at_once(server, key, f"/api/v1/cards/{wallet_card}/deposits",
                     [{"deposit_no": "D1", "amount": "500.00", "tender": "cash"}])
    body = {"card_no": wallet_card, "bill_no": "SAME", "amount": "120.00",
            "tenders": [{"kind": "stored_value", "amount": "100.00"}, {"kind": "cash", "amount": "20.00"}]}
    results = post_all_at_once(server, key, "/api/v1/settlements", [body] * CLIENTS)
    assert sorted(status for status, _ in results) == [200] * (CLIENTS - 1) + [201]
    assert {answer["balances"]["stored_value"] for _, answer in results} == {"400.00"}
    assert find_drift(seed.db) == []
