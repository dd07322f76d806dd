"""Signed webhooks, end to end on SQLite and PostgreSQL: a real HTTP receiver on 127.0.0.1 checks
each POST's signature with the scheme of docs/webhooks.md; events are written in the transaction of
their business change (nothing for one that rolls back); the worker retries a receiver that is down
and delivers once it is up; dead deliveries are re-sent from the screen; the earn request stays
within its statement budget when nobody subscribes to points."""
import json
import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lps_core.cards.models import Card
from lps_core.contract import hookimpl
from lps_core.messages.worker import Worker
from lps_core.settings import Settings
from lps_core.testing import TEST_SETTINGS, WebhookReceiver, audited, sign_in_as
from lps_core.timeutil import utcnow
from lps_core.webhooks import services
from lps_core.webhooks.models import WebhookDelivery, WebhookEndpoint
from lps_core.webhooks.subscriptions import forget

EARN_BUDGET = 4  # tests/test_statement_budget.py's


@pytest.fixture
def receiver(webhook_receiver):
    return webhook_receiver


@pytest.fixture(autouse=True)
def fresh_subscriptions():
    """Each test starts and ends with no cached subscriptions (the tables are emptied between tests)."""
    forget()
    yield
    forget()


@pytest.fixture
def auth(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


def an_endpoint(db, url, events=(services.POINTS_POSTED,), name="Website") -> tuple[int, str]:
    endpoint, secret = services.create_endpoint(db, services.EndpointValues(name, url, tuple(events)))
    db.commit()
    return endpoint.id, secret


def a_worker(engine, plugins, **settings):
    mapping = {**TEST_SETTINGS, "lps.messages.quiet_hours": "", **settings}
    return Worker(lambda: Session(engine, expire_on_commit=False), plugins, Settings.from_mapping(mapping),
                  name="test-worker")


def deliveries(db) -> list[WebhookDelivery]:
    db.rollback()  # a new snapshot: see what the app and the worker committed
    return db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def earn(testapp, auth, card_no, bill_no="B1", amount="100.00", status=201):
    return testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": bill_no, "amount": amount},
                             headers=auth, status=status)


def member_of(seed, card_no) -> int:
    member_id = seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    seed.db.rollback()
    return member_id


def test_an_earn_with_a_subscribed_endpoint_delivers_one_signed_event(testapp, seed, db, engine, auth, receiver):
    card_no = seed.member_card("Li Wei")
    member_id = member_of(seed, card_no)
    endpoint_id, receiver.secret = an_endpoint(db, receiver.url)
    earned = earn(testapp, auth, card_no).json
    (queued,) = deliveries(db)
    assert (queued.status, queued.endpoint_id, queued.event_type) == ("queued", endpoint_id, "points.posted")
    assert receiver.received == []  # nothing is sent inside the request

    report = a_worker(engine, seed.plugins).cycle()
    assert report.webhooks_delivered == 1
    ((headers, body, valid),) = receiver.received
    assert valid, headers
    event = json.loads(body)
    assert headers["LPS-Event-Id"] == event["id"] == queued.event_id and event["id"].startswith("evt_")
    assert headers["LPS-Event-Type"] == event["type"] == "points.posted"
    assert headers["LPS-Delivery-Id"] == str(queued.id)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert event["data"] == {"member_id": member_id, "kind": "earn", "points": earned["points"],
                             "balance": earned["points_balance"], "entry_id": event["data"]["entry_id"],
                             "transaction_id": earned["id"], "bill_no": "B1", "outlet": "REST", "refund_no": None}
    (sent,) = deliveries(db)
    assert (sent.status, sent.tries, sent.last_status_code, sent.last_response) == ("delivered", 1, 200, "answered 200")
    assert sent.delivered_at is not None and body.decode() == sent.body

    # A receiver checking with another secret, or a body changed on the way, refuses it.
    receiver.secret = "whsec_someone-elses-secret-0123456789"
    assert not receiver.verify(headers, body)
    receiver.secret = services.get_endpoint(db, endpoint_id).secret
    assert not receiver.verify(headers, body.replace(b'"B1"', b'"B2"'))
    assert a_worker(engine, seed.plugins).cycle().claimed == 0  # delivered once, not again


def test_a_refund_posts_a_reversal_and_an_unsubscribed_event_writes_nothing(testapp, seed, db, engine, auth, receiver):
    card_no = seed.member_card()
    an_endpoint(db, receiver.url, events=(services.TIER_CHANGED,), name="Tiers only")
    earned = earn(testapp, auth, card_no).json
    assert deliveries(db) == []  # nobody subscribes to points.posted
    endpoint_id, receiver.secret = an_endpoint(db, receiver.url, name="Points")
    testapp.post_json(f"/api/v1/transactions/{earned['id']}/reversal", {"refund_no": "RF1", "amount": "40.00"},
                      headers=auth, status=201)
    a_worker(engine, seed.plugins).cycle()
    ((_, body, valid),) = receiver.received
    data = json.loads(body)["data"]
    assert valid and (data["kind"], data["points"], data["refund_no"], data["bill_no"]) == ("reversal", -40, "RF1", "B1")


class FailsAfterTheWebhook:
    """A listener that runs after LPS's webhook listener, sees the delivery it wrote in the
    transaction, and then fails: the whole earn must roll back, the delivery with it."""

    def __init__(self):
        self.seen = []

    @hookimpl(trylast=True)
    def lps_on_points_posted(self, dbsession):
        self.seen.append(dbsession.scalar(select(func.count()).select_from(WebhookDelivery)))
        raise RuntimeError("a listener failed")


def test_a_rolled_back_transaction_sends_nothing(database_url, seed, db, engine, receiver):
    from webtest import TestApp

    from lps_core import main

    failing = FailsAfterTheWebhook()
    app = TestApp(main({}, **{"sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "0",
                              "lps.plugins.extra": [("fails_after_the_webhook", failing)], **TEST_SETTINGS}))
    card_no = seed.member_card()
    an_endpoint(db, receiver.url)
    earn(app, {"Authorization": f"Bearer {seed.api_key('REST')}"}, card_no, status=500)
    assert failing.seen == [1]  # the delivery was written in the transaction...
    assert deliveries(db) == []  # ...and went with it
    report = a_worker(engine, seed.plugins).cycle()
    assert (report.webhooks_delivered, report.webhooks_retried, receiver.received) == (0, 0, [])


def test_a_receiver_down_then_up_gets_the_event_once(testapp, seed, db, engine, auth):
    with socket.socket() as probe:  # a port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint_id, secret = an_endpoint(db, f"http://127.0.0.1:{port}/hooks")
    earn(testapp, auth, seed.member_card())
    worker = a_worker(engine, seed.plugins)
    now = utcnow()
    report = worker.cycle(now)
    assert (report.webhooks_retried, report.webhooks_delivered) == (1, 0)
    (waiting,) = deliveries(db)
    assert (waiting.status, waiting.tries, waiting.last_status_code) == ("queued", 1, None)
    assert "ConnectionRefused" in waiting.last_error
    assert timedelta(seconds=25) < waiting.next_attempt_at.replace(tzinfo=now.tzinfo) - now < timedelta(seconds=40)
    assert worker.cycle(now).claimed == 0  # not due before its back-off

    receiver = WebhookReceiver(port)
    receiver.secret = secret
    try:
        assert worker.cycle(now + timedelta(seconds=31)).webhooks_delivered == 1
        assert worker.cycle(now + timedelta(hours=1)).claimed == 0
    finally:
        receiver.stop()
    assert [valid for _, _, valid in receiver.received] == [True]
    (done,) = deliveries(db)
    assert (done.status, done.tries, done.last_status_code, done.last_error) == ("delivered", 2, 200, None)


def test_dead_after_max_tries_then_sent_again_from_the_screen(testapp, seed, db, engine, auth, receiver):
    endpoint_id, receiver.secret = an_endpoint(db, receiver.url)
    earn(testapp, auth, seed.member_card())
    receiver.statuses = [500, 503]
    worker = a_worker(engine, seed.plugins)
    worker.webhooks.options = worker.webhooks.options.model_copy(update={"max_tries": 2})
    now = utcnow()
    worker.cycle(now)
    worker.cycle(now + timedelta(minutes=5))
    (dead,) = deliveries(db)
    assert (dead.status, dead.tries, dead.last_status_code) == ("dead", 2, 503)
    assert "gave up after 2 tries" in dead.last_error and dead.last_response == "answered 503"

    token = sign_in_as(testapp, seed, "hq", "a long passphrase 1", ["administrator"], [])
    page = testapp.get(f"/config/webhooks/{endpoint_id}")
    assert f"resend-{dead.id}" in page.text and "answered 503" in page.text
    testapp.post(f"/config/webhooks/deliveries/{dead.id}/resend", {"csrf_token": token}, status=303)
    original, copy = deliveries(db)
    assert (original.status, copy.status, copy.resent_from_id, copy.resent_by) == ("dead", "queued", dead.id, "hq")
    assert copy.event_id == original.event_id and copy.body == original.body
    (entry,) = audited(db, "webhook.resend")
    assert entry.after["new_delivery"] == copy.id
    # A delivery on its way already is not queued twice.
    testapp.post(f"/config/webhooks/deliveries/{copy.id}/resend", {"csrf_token": token}, status=303)
    assert len(deliveries(db)) == 2

    worker.cycle(now + timedelta(minutes=10))
    assert [json.loads(body)["id"] for _, body, _ in receiver.received] == [original.event_id] * 3
    assert receiver.received[-1][2]  # the re-send is signed afresh and verifies
    assert [d.status for d in deliveries(db)] == ["dead", "delivered"]
    assert "delivered" in testapp.get(f"/config/webhooks/deliveries/{copy.id}").text


def test_endpoints_on_the_screens_show_the_secret_once_and_are_audited(testapp, seed, db, receiver):
    token = sign_in_as(testapp, seed, "hq", "a long passphrase 1", ["administrator"], [])
    assert testapp.get("/config/webhooks").status_code == 200
    form = testapp.get("/config/webhooks/new")
    assert 'name="secret"' in form.text and 'value="points.posted"' in form.text
    bad = testapp.post("/config/webhooks/new", {"csrf_token": token, "name": "Site", "url": "ftp://x",
                                                "events": ["points.posted", "nonsense"]}, status=400)
    assert 'id="url"' in bad.text and bad.text.count('role="alert"') >= 1
    assert db.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
    http_elsewhere = testapp.post("/config/webhooks/new", {"csrf_token": token, "name": "Site",
                                                           "url": "http://partner.example/hooks",
                                                           "events": ["points.posted"], "active": "1"}, status=400)
    assert "must start with https://" in http_elsewhere.text

    made = testapp.post("/config/webhooks/new", {"csrf_token": token, "name": "Site", "url": receiver.url,
                                                 "events": ["points.posted", "member.approved"], "active": "1"})
    assert made.headers["Cache-Control"] == "no-store"
    db.rollback()
    endpoint = db.scalar(select(WebhookEndpoint))
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in made.text
    assert endpoint.events == ["member.approved", "points.posted"] and endpoint.active
    page = testapp.get(f"/config/webhooks/{endpoint.id}")
    assert endpoint.secret not in page.text and "Site" in testapp.get("/config/webhooks").text
    (created,) = audited(db, "webhook.create")
    assert created.after == {"name": "Site", "url": receiver.url, "events": ["member.approved", "points.posted"],
                             "active": True, "signing_key": "made"}
    assert endpoint.secret not in json.dumps(created.after)

    testapp.post(f"/config/webhooks/{endpoint.id}", {"csrf_token": token, "name": "Site", "url": receiver.url,
                                                     "events": ["tier.changed"]}, status=303)
    (changed,) = audited(db, "webhook.update")
    assert (changed.before["active"], changed.after["active"], changed.after["events"]) == (True, False, ["tier.changed"])

    given = "whsec_given-by-the-website-team-0001"
    shown = testapp.post(f"/config/webhooks/{endpoint.id}/secret", {"csrf_token": token, "secret": given})
    assert given not in shown.text  # a secret staff typed is not echoed
    db.rollback()
    assert db.get(WebhookEndpoint, endpoint.id).secret == given
    (replaced,) = audited(db, "webhook.secret")
    assert replaced.after == {"signing_key": "given"}


def test_an_outlet_operator_sees_the_log_but_changes_nothing(testapp, seed, db, receiver):
    endpoint_id, _ = an_endpoint(db, receiver.url)
    token = sign_in_as(testapp, seed, "manager", "a long passphrase 1", ["administrator"], ["REST"])
    assert "resend" not in testapp.get(f"/config/webhooks/{endpoint_id}").text
    testapp.post(f"/config/webhooks/{endpoint_id}", {"csrf_token": token, "name": "X", "url": receiver.url,
                                                     "events": ["tier.changed"]}, status=403)
    testapp.post("/config/webhooks/new", {"csrf_token": token}, status=403)


def test_approval_tier_change_and_redemptions_are_events(testapp, seed, db, engine, receiver):
    events = services.EVENT_TYPES
    endpoint_id, receiver.secret = an_endpoint(db, receiver.url, events=events)
    manager = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['members', 'members.approve', 'rewards', 'rewards.manage', 'tiers.manage'])}"}
    member_id = testapp.post_json("/api/v1/members", {"name": "Wang Fang", "channel": "web", "phone": "+8613900000001"},
                                  headers=manager, status=201).json["id"]
    card_no = testapp.post_json(f"/api/v1/members/{member_id}/approve", {}, headers=manager).json["card_no"]
    from lps_core.ledger import services as ledger

    ledger.credit(db, seed.points_account(card_no), 5000, kind=ledger.EARN, business_key="gift:1", fingerprint="gift",
                  expires_at=utcnow() + timedelta(days=30))
    db.commit()
    testapp.post_json("/api/v1/rewards", {"code": "MUG", "name": "Hotel mug", "category": "item", "cost": "5.00",
                                          "stock": 10}, headers=manager, status=201)
    reserved = testapp.post_json("/api/v1/redemptions", {"card_no": card_no, "reward": "MUG", "request_no": "Q1",
                                                         "collection": "later"},
                                 headers=manager, status=201).json
    testapp.post_json(f"/api/v1/redemptions/{reserved['no']}/collect", {}, headers=manager, status=200)
    testapp.post_json(f"/api/v1/redemptions/{reserved['no']}/cancel", {"reason": "returned", "force": True},
                      headers=manager, status=200)
    from lps_core.tiers.services import set_tier_floor

    set_tier_floor(db, seed.plugins, member_id, "gold", utcnow() + timedelta(days=30))
    db.commit()
    a_worker(engine, seed.plugins).cycle()
    got = receiver.events()
    assert all(valid for _, _, valid in receiver.received)
    assert [event["type"] for event in got] == ["member.approved", "redemption.reserved", "redemption.fulfilled",
                                                "redemption.cancelled", "tier.changed"]
    approved, reserved_event, fulfilled, cancelled, tier = (event["data"] for event in got)
    assert (approved["member_id"], approved["card_no"], approved["tier"]) == (member_id, card_no, "classic")
    assert (reserved_event["redemption_no"], reserved_event["status"], reserved_event["points"]) == \
        (reserved["no"], "awaiting_pickup", 500)
    assert fulfilled["status"] == "collected" and fulfilled["collected_at"]
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "returned")
    assert (tier["member_id"], tier["old_tier"], tier["new_tier"]) == (member_id, "classic", "gold")


def test_an_endpoint_switched_off_cancels_what_waits_for_it(testapp, seed, db, engine, auth, receiver):
    endpoint_id, receiver.secret = an_endpoint(db, receiver.url)
    earn(testapp, auth, seed.member_card())
    services.update_endpoint(db, endpoint_id, services.EndpointValues("Website", receiver.url,
                                                                      (services.POINTS_POSTED,), active=False))
    db.commit()
    assert a_worker(engine, seed.plugins).cycle().cancelled >= 1
    (cancelled,) = deliveries(db)
    assert cancelled.status == "cancelled" and receiver.received == []
    earn(testapp, auth, seed.member_card("Other"), bill_no="B2")
    assert len(deliveries(db)) == 1  # a switched-off endpoint gets no new events
    with pytest.raises(Exception, match="switched off"):
        services.resend(db, cancelled.id, by="test")


def test_the_earn_request_costs_no_statement_without_a_subscription_and_one_insert_with(counted_app, seed, db, receiver):
    app, statements = counted_app
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    card_no = seed.member_card()
    earn(app, auth, card_no, bill_no="warm-up")
    statements.clear()
    earn(app, auth, card_no, bill_no="B1")
    unsubscribed = list(statements)
    assert len(unsubscribed) <= EARN_BUDGET and not any("webhook" in s for s in unsubscribed), unsubscribed

    an_endpoint(db, receiver.url, events=(services.TIER_CHANGED,), name="Tiers only")  # forgets the cached list
    earn(app, auth, card_no, bill_no="warm-up 2")  # reads the list again (no points.posted subscriber)
    statements.clear()
    earn(app, auth, card_no, bill_no="B2")
    assert statements == unsubscribed, statements

    an_endpoint(db, receiver.url, name="Points")
    earn(app, auth, card_no, bill_no="warm-up 3")
    statements.clear()
    earn(app, auth, card_no, bill_no="B3")
    webhook_statements = [s for s in statements if "webhook" in s]
    assert len(webhook_statements) == 1 and webhook_statements[0].startswith("INSERT INTO webhook_deliveries")
    assert [s for s in statements if "webhook" not in s] == unsubscribed and len(statements) == len(unsubscribed) + 1


def test_the_settings_are_checked_at_start_up():
    from lps_core.testing import start_up_error

    assert start_up_error({"lps.webhooks.max_tries": "0"}) and "lps.webhooks.max_tries" in \
        start_up_error({"lps.webhooks.max_tries": "0"})
    assert "lease_seconds" in start_up_error({"lps.webhooks.timeout_seconds": "30", "lps.webhooks.lease_seconds": "20"})
    assert "not a setting" in start_up_error({"lps.webhooks.retries": "3"})
    assert start_up_error({"lps.webhooks.max_tries": "5", "lps.webhooks.allow_http": "true"}) is None
