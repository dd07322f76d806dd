"""The webhooks API (scope webhooks.manage): endpoints created with a secret answered once, changed,
their log read and a delivery re-sent, each audited; bad input named by field; on both databases."""
import pytest
from sqlalchemy import select

from lps_core.testing import audited
from lps_core.webhooks import services
from lps_core.webhooks.models import WebhookDelivery, WebhookEndpoint
from lps_core.webhooks.subscriptions import forget

URL = "https://www.hotel.example/lps/webhooks"


@pytest.fixture(autouse=True)
def fresh_subscriptions():
    forget()
    yield
    forget()


@pytest.fixture
def manager(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', scopes=['webhooks.manage'])}"}


def test_an_endpoint_is_created_with_its_secret_once_and_changed(testapp, seed, db, manager):
    made = testapp.post_json("/api/v1/webhooks/endpoints", {"name": "Website", "url": URL,
                                                           "events": ["points.posted", "member.approved"]},
                             headers=manager, status=201)
    assert made.headers["Cache-Control"] == "no-store"
    created = made.json
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert (created["events"], created["active"]) == (["member.approved", "points.posted"], True)
    shown = testapp.get(f"/api/v1/webhooks/endpoints/{created['id']}", headers=manager).json
    assert "secret" not in shown and shown["deliveries"] == {}
    assert [e["name"] for e in testapp.get("/api/v1/webhooks/endpoints", headers=manager).json["endpoints"]] == \
        ["Website"]
    (entry,) = audited(db, "webhook.create")
    assert entry.actor_kind == "api_key" and created["secret"] not in str(entry.after)

    changed = testapp.put_json(f"/api/v1/webhooks/endpoints/{created['id']}",
                               {"name": "Website", "url": URL, "events": ["tier.changed"], "active": False},
                               headers=manager).json
    assert (changed["events"], changed["active"]) == (["tier.changed"], False)
    (update,) = audited(db, "webhook.update")
    assert (update.before["events"], update.after["events"]) == (["member.approved", "points.posted"],
                                                                ["tier.changed"])
    refused = testapp.put_json(f"/api/v1/webhooks/endpoints/{created['id']}",
                               {"name": "Website", "url": URL, "events": ["tier.changed"], "secret": "x" * 30},
                               headers=manager, status=422).json
    assert "secret" in refused["fields"]

    given = "whsec_from-the-website-team-000000001"
    answer = testapp.post_json(f"/api/v1/webhooks/endpoints/{created['id']}/secret", {"secret": given},
                               headers=manager).json
    assert answer == {"id": created["id"], "secret": given}
    made_secret = testapp.post(f"/api/v1/webhooks/endpoints/{created['id']}/secret", headers=manager).json["secret"]
    db.rollback()
    assert db.get(WebhookEndpoint, created["id"]).secret == made_secret != given
    assert [e.after for e in audited(db, "webhook.secret")] == [{"signing_key": "given"}, {"signing_key": "made"}]


def test_bad_input_is_named_by_field(testapp, seed, db, manager):
    bad = testapp.post_json("/api/v1/webhooks/endpoints", {"name": "", "url": URL, "events": ["nope"], "x": 1},
                            headers=manager, status=400).json
    assert {"name", "events[0]", "x"} <= set(bad["fields"])
    plain = testapp.post_json("/api/v1/webhooks/endpoints", {"name": "Site", "url": "http://partner.example/h",
                                                            "events": ["tier.changed"]}, headers=manager, status=422)
    assert "url" in plain.json["fields"]
    weak = testapp.post_json("/api/v1/webhooks/endpoints", {"name": "Site", "url": URL, "events": ["tier.changed"],
                                                           "secret": "short"}, headers=manager, status=422)
    assert "secret" in weak.json["fields"]
    testapp.post_json("/api/v1/webhooks/endpoints", {"name": "Site", "url": URL, "events": ["tier.changed"]},
                      headers=manager, status=201)
    again = testapp.post_json("/api/v1/webhooks/endpoints", {"name": "Site", "url": URL, "events": ["tier.changed"]},
                              headers=manager, status=409)
    assert "name" in again.json["fields"]
    testapp.get("/api/v1/webhooks/endpoints/999", headers=manager, status=404)
    testapp.get("/api/v1/webhooks/endpoints", headers={"Authorization": f"Bearer {seed.api_key('REST', scopes=['members'])}"},
                status=403)
    assert db.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.name == "")) is None


def test_the_log_is_read_and_a_delivery_sent_again(testapp, seed, db, manager):
    endpoint, _ = services.create_endpoint(db, services.EndpointValues("Site", URL, (services.TIER_CHANGED,)))
    services.publish(db, [endpoint.id], services.TIER_CHANGED, {"member_id": 1, "old_tier": None, "new_tier": "gold"})
    db.commit()
    (waiting,) = testapp.get(f"/api/v1/webhooks/endpoints/{endpoint.id}/deliveries", headers=manager).json["deliveries"]
    assert (waiting["status"], waiting["event_type"], waiting["tries"]) == ("queued", "tier.changed", 0)
    testapp.post(f"/api/v1/webhooks/deliveries/{waiting['id']}/resend", headers=manager, status=409)
    db.execute(WebhookDelivery.__table__.update().values(status="dead", tries=10))
    db.commit()
    copy = testapp.post(f"/api/v1/webhooks/deliveries/{waiting['id']}/resend", headers=manager, status=201).json
    assert (copy["status"], copy["resent_from_id"], copy["event_id"]) == ("queued", waiting["id"], waiting["event_id"])
    page = testapp.get(f"/api/v1/webhooks/endpoints/{endpoint.id}/deliveries?status=dead", headers=manager).json
    assert (page["total"], page["deliveries"][0]["id"]) == (1, waiting["id"])
    (entry,) = audited(db, "webhook.resend")
    assert entry.after["new_delivery"] == copy["id"]
