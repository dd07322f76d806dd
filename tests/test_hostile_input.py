"""Every write route of the API, fed hostile strings and numbers: the answer is a success or a 4xx
problem, never a 500, and a refused request leaves the ledger exactly as it was.

The routes come from the declared operations, so a new route is fuzzed without a line here."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lps_core.http.operations import operations_of
from lps_core.ledger.models import Account, LedgerEntry

HOSTILE_TEXT = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\ud800", "x" * 100_000, "１２３", "1e300000", "-1", "+1", "10.", ".5", " 10 ",
    "1_000", "NaN", "Infinity", "9" * 40, "0", "0.001", "../../etc/passwd", "<script>", "'; DROP TABLE x; --",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-02-30", "\u202e", "😀" * 50,
])
HOSTILE_NUMBER = st.one_of(
    st.sampled_from([0, -1, 2**31, 2**63, 2**64, -(2**63) - 1, 10**400, 1.5, -0.0, 1e308, True, False]),
    st.integers(), st.floats(allow_nan=False, allow_infinity=False))
SCALAR = st.one_of(HOSTILE_TEXT, HOSTILE_NUMBER, st.none(), st.text(max_size=40))
HOSTILE_VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=8)

WRITE_METHODS = ("post", "put", "patch", "delete")


def _path_values(seed_card, path_model):
    values = {"card_no": seed_card, "id": "1", "code": "REST", "no": "R00000001"}
    if path_model is None:
        return {}
    return {name: values.get(name, "1") for name in path_model.model_fields}


def _ledger(db):
    db.rollback()
    counted = db.execute(select(func.count(), func.coalesce(func.sum(LedgerEntry.amount), 0))).one()
    balances = db.execute(select(func.coalesce(func.sum(Account.balance), 0))).scalar()
    db.rollback()
    return tuple(counted), balances


def _bodies(model):
    names = [info.alias or name for name, info in model.model_fields.items()] + ["unknown_field"]
    return st.dictionaries(st.sampled_from(names), HOSTILE_VALUE, max_size=len(names))


def test_every_write_route_refuses_hostile_input_cleanly(testapp, seed):
    card_no = seed.member_card("Fuzz Target")
    key = seed.api_key()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    mapper = testapp.app.registry.introspector
    patterns = {item["introspectable"]["name"]: item["introspectable"]["pattern"]
                for item in mapper.get_category("routes")}
    operations = [op for op in operations_of(testapp.app.registry)
                  if op.method.lower() in WRITE_METHODS and op.body is not None]
    assert operations, "no write operation is declared"
    for operation in operations:
        path = patterns[operation.route].format(**_path_values(card_no, operation.path))

        @settings(max_examples=15, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(body=_bodies(operation.body))
        def check(body):
            before = _ledger(seed.db)
            raw = json.dumps(body, ensure_ascii=True).encode()
            answer = testapp.request(path, method=operation.method.upper(), body=raw, headers=headers,
                                     expect_errors=True)
            assert answer.status_int < 500, (operation.route, body, answer.text[:500])
            if answer.status_int >= 400:
                assert answer.content_type == "application/problem+json", (operation.route, answer.text[:200])
                assert answer.json["status"] == answer.status_int
                assert _ledger(seed.db) == before, (operation.route, body)

        check()


@pytest.mark.parametrize("raw", [b'{"a": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", b"\xff\xfe", b'{"a": "\\ud800"}',
                                 b'{"amount": 1e999999}', b"{" * 50, b"null", b'"text"', b"[]"])
def test_malformed_bodies_answer_400_quickly(testapp, seed, raw):
    headers = {"Authorization": f"Bearer {seed.api_key()}", "Content-Type": "application/json"}
    answer = testapp.post("/api/v1/transactions", raw, headers=headers, expect_errors=True)
    assert answer.status_int == 400, answer.text[:300]
    assert answer.content_type == "application/problem+json"


@pytest.mark.parametrize("raw, status", [(b"", 200), (b"\n", 400), (b"   ", 400)])
def test_an_optional_body_may_be_left_out_but_not_sent_blank(testapp, seed, raw, status):
    """No body at all is an empty one; a body that was sent must be the JSON its Content-Type says."""
    headers = {"Authorization": f"Bearer {seed.api_key()}", "Content-Type": "application/json"}
    code = testapp.post_json("/api/v1/vouchers", {"count": 1, "value": "10.00", "valid_to": "2030-01-01T00:00:00Z"},
                             headers=headers).json["vouchers"][0]["code"]
    answer = testapp.post(f"/api/v1/vouchers/{code}/void", raw, headers=headers, expect_errors=True)
    assert answer.status_int == status, answer.text[:300]
    if status == 400:
        assert answer.json["fields"] == {"body": "is empty"}
