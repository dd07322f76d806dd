"""lps_core.db.leased_queue on both of its tables, the outbox and the webhook deliveries: workers
claiming at once get disjoint rows (PostgreSQL), a lease that ran out is taken over, a late result
is refused, an abandoned row with every try used is dead, and failed tries back off or die."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lps_core.db.leased_queue import LeasedQueue, backoff_seconds
from lps_core.messages.models import OutboxMessage
from lps_core.settings import MessageSettings
from lps_core.timeutil import as_utc, utcnow
from lps_core.webhooks.models import WebhookDelivery, WebhookEndpoint
from lps_core.webhooks.settings import WebhookSettings

TABLES = {
    "outbox": (OutboxMessage, MessageSettings(batch_size=3, lease_seconds=60, max_tries=3, backoff_seconds=10,
                                              backoff_max_seconds=25)),
    "webhooks": (WebhookDelivery, WebhookSettings(batch_size=3, lease_seconds=60, max_tries=3, backoff_seconds=10,
                                                  backoff_max_seconds=25)),
}


@pytest.fixture(params=sorted(TABLES))
def table(request):
    return TABLES[request.param]


def queue_rows(db, table, count, now) -> list[int]:
    """`count` queued rows of `table`, due at `now`, oldest first."""
    rows = []
    if table is WebhookDelivery:
        endpoint = WebhookEndpoint(name="Website", url="https://site.example/hooks", secret="whsec_test-secret",
                                   events=["points.posted"])
        db.add(endpoint)
        db.flush()
    for n in range(count):
        due = now - timedelta(seconds=count - n)
        if table is OutboxMessage:
            rows.append(OutboxMessage(event="tier_changed", channel="email", language="en",
                                      recipient=f"guest{n}@example.test", subject="Hello", body="Hi",
                                      next_attempt_at=due))
        else:
            rows.append(WebhookDelivery(endpoint_id=endpoint.id, event_id=f"evt_{n}", event_type="points.posted",
                                        body="{}", next_attempt_at=due, created_at=due))
    db.add_all(rows)
    db.commit()
    return [row.id for row in rows]


def claim_and_lease(queue, now, options):
    """One committed claim that leases every live row: (claim name, ids leased)."""
    with queue.transaction() as session:
        claim = queue.claim_due(session, now, options)
        for row in claim.rows:
            claim.lease(row)
        return claim.name, [row.id for row in claim.rows]


def read(db, table, row_id):
    db.commit()  # a new snapshot: see what the queue committed
    db.expire_all()
    return db.get(table, row_id)


def test_two_workers_claiming_at_once_get_disjoint_rows(db, engine, table):
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite a claim holds the one write lock: a second worker waits, it does not skip")
    table, options = table
    now = utcnow()
    ids = queue_rows(db, table, 5, now)
    first = LeasedQueue(table, lambda: Session(engine, expire_on_commit=False), "first")
    second = LeasedQueue(table, lambda: Session(engine, expire_on_commit=False), "second")
    with first.transaction() as one:
        taken_first = first.claim_due(one, now, options)  # its rows stay locked until the commit
        with second.transaction() as other:
            other.execute(text("SET LOCAL lock_timeout = '5s'"))  # a claim that waited would fail, not hang
            taken_second = second.claim_due(other, now, options)  # skips them instead of waiting
            for row in taken_second.rows:
                taken_second.lease(row)
        for row in taken_first.rows:
            taken_first.lease(row)
    first_ids = [row.id for row in taken_first.rows]
    second_ids = [row.id for row in taken_second.rows]
    assert first_ids == ids[:3] and second_ids == ids[3:]  # oldest first, none taken twice
    assert {read(db, table, row_id).claimed_by for row_id in ids} == {taken_first.name, taken_second.name}


def test_a_lease_that_ran_out_is_taken_over_and_the_late_result_refused(db, engine, table):
    table, options = table
    now = utcnow()
    (row_id,) = queue_rows(db, table, 1, now)
    queue = LeasedQueue(table, lambda: Session(engine, expire_on_commit=False), "worker")
    first_claim, leased = claim_and_lease(queue, now, options)
    assert leased == [row_id]
    row = read(db, table, row_id)
    assert (row.status, row.tries, row.claimed_by) == ("sending", 1, first_claim)
    assert as_utc(row.next_attempt_at) == now + timedelta(seconds=60)

    assert claim_and_lease(queue, now + timedelta(seconds=59), options)[1] == []  # still leased
    second_claim, leased = claim_and_lease(queue, now + timedelta(seconds=61), options)
    assert leased == [row_id] and second_claim != first_claim
    assert (read(db, table, row_id).tries, read(db, table, row_id).claimed_by) == (2, second_claim)

    # The first claim's late answer does not overwrite the newer claim; the newer one's is written.
    assert not queue.record(row_id, first_claim, {"status": "dead", "last_error": "late"})
    row = read(db, table, row_id)
    assert (row.status, row.last_error, row.claimed_by) == ("sending", None, second_claim)
    assert queue.record(row_id, second_claim, {"status": "dead", "last_error": "on time"})
    row = read(db, table, row_id)
    assert (row.status, row.last_error, row.claimed_by) == ("dead", "on time", None)
    assert not queue.record(row_id, second_claim, {"status": "queued"})  # no longer sending


def test_a_row_abandoned_with_every_try_used_is_dead(db, engine, table):
    table, options = table
    now = utcnow()
    row_id, other_id = queue_rows(db, table, 2, now)
    queue = LeasedQueue(table, lambda: Session(engine, expire_on_commit=False), "worker")
    later = now
    for _ in range(options.max_tries):  # a worker that died while sending, max_tries times
        claim_and_lease(queue, later, options)
        later += timedelta(seconds=options.lease_seconds + 1)
    with queue.transaction() as session:
        claim = queue.claim_due(session, later, options)
        assert (claim.selected, claim.dead, claim.rows) == (2, 2, [])
    row = read(db, table, row_id)
    assert (row.status, row.tries, row.claimed_by) == ("dead", 3, None)
    assert row.last_error == "the worker stopped while sending it, 3 times: no answer recorded"
    assert read(db, table, other_id).status == "dead"


def test_cancelled_and_postponed_rows_use_no_try(db, engine, table):
    table, options = table
    now = utcnow()
    cancelled_id, postponed_id = queue_rows(db, table, 2, now)
    queue = LeasedQueue(table, lambda: Session(engine, expire_on_commit=False), "worker")
    with queue.transaction() as session:
        claim = queue.claim_due(session, now, options)
        cancelled, postponed = claim.rows
        claim.cancel(cancelled, "switched off")
        claim.postpone(postponed, now + timedelta(hours=1))
    row = read(db, table, cancelled_id)
    assert (row.status, row.tries, row.last_error) == ("cancelled", 0, "switched off")
    row = read(db, table, postponed_id)
    assert (row.status, row.tries, as_utc(row.next_attempt_at)) == ("queued", 0, now + timedelta(hours=1))
    assert claim_and_lease(queue, now + timedelta(minutes=59), options)[1] == []


def test_a_failed_try_backs_off_doubling_to_the_cap_then_dies(table):
    _, options = table
    now = utcnow()
    assert [backoff_seconds(tries, options) for tries in (1, 2, 3, 4)] == [10, 20, 25, 25]
    again = LeasedQueue.after_failure(2, "451 later", options, now)
    assert again == {"status": "queued", "last_error": "451 later", "next_attempt_at": now + timedelta(seconds=20)}
    assert LeasedQueue.after_failure(3, "451 later", options, now) == {
        "status": "dead", "last_error": "451 later (gave up after 3 tries)"}
    assert LeasedQueue.after_failure(1, "550 no such user", options, now, retry=False) == {
        "status": "dead", "last_error": "550 no such user"}
    assert len(LeasedQueue.after_failure(1, "x" * 5000, options, now)["last_error"]) == 1000


def test_the_claim_is_oldest_first_and_a_batch_at_most(db, engine, table):
    table, options = table
    now = utcnow()
    ids = queue_rows(db, table, 5, now)
    queue = LeasedQueue(table, lambda: Session(engine, expire_on_commit=False), "worker")
    assert claim_and_lease(queue, now, options)[1] == ids[:3]
    assert claim_and_lease(queue, now, options)[1] == ids[3:]
    db.commit()
    assert db.scalars(select(table.status).distinct()).all() == ["sending"]
