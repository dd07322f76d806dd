"""The ledger invariants: append-only, idempotent by business key, oldest-expiring lots first,
never negative, reversals linked and bounded, balance = sum of entries = points left in lots."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from lps_core.errors import Conflict, InsufficientBalance
from lps_core.ledger import services as ledger
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import Account, LedgerEntry, PointLot

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def earn(db, account, points, key, expires_in_days=365):
    return ledger.credit(db, account, points, kind=ledger.EARN, business_key=key, fingerprint=key,
                         occurred_at=NOW, expires_at=NOW + timedelta(days=expires_in_days))


def spend(db, account, points, key):
    return ledger.debit(db, account, points, business_key=key, fingerprint=key, now=NOW)


def lots(db, account):
    return {row.entry_id: row.remaining for row in
            db.execute(select(PointLot.entry_id, PointLot.remaining).where(PointLot.account_id == account))}


@pytest.fixture
def account(seed):
    return seed.points_account(seed.member_card())


def test_balance_follows_credits_and_debits(db, account):
    earn(db, account, 100, "e1")
    earn(db, account, 50, "e2")
    posting = spend(db, account, 120, "d1")
    db.commit()
    assert posting.balance_after == 30
    assert ledger.balance_of(db, account) == 30
    assert find_drift(db) == []


def test_debit_takes_the_oldest_expiring_lot_first(db, account):
    late = earn(db, account, 100, "late", expires_in_days=300)
    soon = earn(db, account, 100, "soon", expires_in_days=30)
    spend(db, account, 130, "d1")
    assert lots(db, account) == {soon.entry_id: 0, late.entry_id: 70}


def test_expired_lots_cannot_be_spent(db, account):
    earn(db, account, 100, "old", expires_in_days=-1)
    earn(db, account, 40, "new")
    with pytest.raises(InsufficientBalance):
        spend(db, account, 50, "d1")
    assert spend(db, account, 40, "d2").balance_after == 100


def test_debit_beyond_balance_is_refused_and_changes_nothing(db, account):
    earn(db, account, 10, "e1")
    db.commit()
    with pytest.raises(InsufficientBalance):
        spend(db, account, 11, "d1")
    db.rollback()
    assert ledger.balance_of(db, account) == 10
    assert db.scalar(select(LedgerEntry.id).where(LedgerEntry.business_key == "d1")) is None


def test_replaying_a_business_key_returns_the_first_posting(db, account):
    first = earn(db, account, 100, "e1")
    again = earn(db, account, 100, "e1")
    assert again.replayed and again.entry_id == first.entry_id
    assert ledger.balance_of(db, account) == 100


def test_the_same_key_with_other_content_is_a_conflict(db, account):
    earn(db, account, 100, "e1")
    with pytest.raises(Conflict):
        ledger.credit(db, account, 200, kind=ledger.EARN, business_key="e1", fingerprint="other",
                      expires_at=NOW + timedelta(days=1))


def test_partial_reversals_up_to_the_original_and_not_beyond(db, account):
    original = earn(db, account, 100, "e1")
    first = ledger.reverse(db, original.entry_id, 30, business_key="r1", fingerprint="r1")
    second = ledger.reverse(db, original.entry_id, 70, business_key="r2", fingerprint="r2")
    assert (first.amount, second.amount, second.balance_after) == (-30, -70, 0)
    with pytest.raises(Conflict):
        ledger.reverse(db, original.entry_id, 1, business_key="r3", fingerprint="r3")
    links = db.scalars(select(LedgerEntry.reverses_id).where(LedgerEntry.kind == ledger.REVERSAL)).all()
    assert links == [original.entry_id, original.entry_id]
    assert find_drift(db) == []


def test_over_reversal_is_refused(db, account):
    original = earn(db, account, 100, "e1")
    with pytest.raises(Conflict) as error:
        ledger.reverse(db, original.entry_id, 101, business_key="r1", fingerprint="r1")
    assert error.value.fields == {"amount": "at most 100 can be reversed"}


def test_reversing_a_credit_takes_from_its_own_lot_first(db, account):
    soon = earn(db, account, 100, "soon", expires_in_days=10)
    late = earn(db, account, 100, "late", expires_in_days=300)
    ledger.reverse(db, late.entry_id, 60, business_key="r1", fingerprint="r1")
    assert lots(db, account) == {soon.entry_id: 100, late.entry_id: 40}


def test_reversing_a_debit_gives_points_back_to_the_lots_it_took(db, account):
    a = earn(db, account, 50, "a", expires_in_days=10)
    b = earn(db, account, 50, "b", expires_in_days=20)
    debit = spend(db, account, 80, "d1")
    ledger.reverse(db, debit.entry_id, 20, business_key="r1", fingerprint="r1")
    assert lots(db, account) == {a.entry_id: 0, b.entry_id: 40}
    ledger.reverse(db, debit.entry_id, business_key="r2", fingerprint="r2")
    assert lots(db, account) == {a.entry_id: 50, b.entry_id: 50}
    assert find_drift(db) == []


def test_a_clawback_larger_than_the_balance_is_refused(db, account):
    original = earn(db, account, 100, "e1")
    spend(db, account, 90, "d1")
    with pytest.raises(InsufficientBalance):
        ledger.reverse(db, original.entry_id, 50, business_key="r1", fingerprint="r1")


def test_the_database_refuses_a_negative_balance_whatever_the_code_does(db, account):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.execute(update(Account).where(Account.id == account).values(balance=-1))
        db.flush()


def test_drift_is_found(db, account):
    earn(db, account, 100, "e1")
    db.execute(update(Account).where(Account.id == account).values(balance=99))
    [drift] = find_drift(db)
    assert (drift.account_id, drift.balance, drift.entries_sum, drift.lots_sum) == (account, 99, 100, 100)


def test_an_entry_naming_another_account_kind_is_drift(db, account):
    posting = earn(db, account, 100, "e1")
    db.execute(update(LedgerEntry).where(LedgerEntry.id == posting.entry_id).values(account_kind="credit"))
    [drift] = find_drift(db)
    assert (drift.account_id, drift.mislabelled) == (account, True)


def test_every_posting_copies_its_accounts_kind(testapp, seed, account):
    """The reports select a kind's entries by ledger_entries.account_kind: the earn request's one
    statement, credits, debits and reversals all write it."""
    till = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['transactions', 'cashier'])}"}
    card_no = seed.member_card("Kind Member")
    testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "K1", "amount": "100.00"},
                      headers=till, status=201)
    earned = earn(seed.db, account, 100, "e1")
    spent = spend(seed.db, account, 30, "d1")
    ledger.reverse(seed.db, spent.entry_id, 10, business_key="r1", fingerprint="r1")
    ledger.reverse(seed.db, earned.entry_id, 10, business_key="r2", fingerprint="r2")
    seed.db.commit()
    rows = seed.db.execute(select(LedgerEntry.kind, LedgerEntry.account_kind, Account.kind.label("of_account"))
                           .join(Account, Account.id == LedgerEntry.account_id)).all()
    assert sorted(row.kind for row in rows) == ["debit", "earn", "earn", "reversal", "reversal"]
    assert all(row.account_kind == row.of_account == "points" for row in rows)
    assert find_drift(seed.db) == []


operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 500), st.integers(-5, 400)),
        st.tuples(st.just("debit"), st.integers(1, 600), st.just(0)),
        st.tuples(st.just("reverse"), st.integers(1, 600), st.integers(0, 30)),
    ),
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_any_sequence_keeps_every_invariant(seed, ops):
    """Random earn/debit/reversal sequences: refused operations change nothing, the balance never goes
    negative and always equals the entries' sum and the points left in lots."""
    db = seed.db
    account = seed.points_account(seed.member_card())
    postings, expected = [], 0
    for n, (op, amount, extra) in enumerate(ops):
        key = f"{account}:{n}"
        try:
            with db.begin_nested():
                if op == "earn":
                    posting = ledger.credit(db, account, amount, kind=ledger.EARN, business_key=key,
                                            fingerprint=key, expires_at=NOW + timedelta(days=extra))
                elif op == "debit":
                    posting = spend(db, account, amount, key)
                else:
                    if not postings:
                        continue
                    target = postings[extra % len(postings)]
                    posting = ledger.reverse(db, target.entry_id, amount, business_key=key, fingerprint=key)
        except (InsufficientBalance, Conflict):
            continue
        if op != "reverse":
            postings.append(posting)
        expected += posting.amount
        assert posting.balance_after == expected >= 0
    db.commit()
    assert ledger.balance_of(db, account) == expected
    assert sum(lots(db, account).values()) == expected
    assert find_drift(db) == []
