"""The marketing screens: promotions.manage only, the navigation entry, a segment saved with its
live count and preview, a bad field told beside it, the export, a campaign created, scheduled and
cancelled with its results page, every save audited."""
import csv
import io

from lps_core.testing import audited, csrf_of, sign_in_as

PASSWORD = "a-long-password-1"


def test_only_promotions_manage_opens_them(testapp, seed):
    sign_in_as(testapp, seed, "cashier1", PASSWORD, ["cashier"], ["REST"])
    testapp.get("/marketing", status=403)
    testapp.get("/marketing/segments/new", status=403)


def test_a_segment_is_saved_counted_previewed_and_exported(testapp, seed):
    seed.member_card("Gold Guest", tier="gold")
    seed.member_card("Classic Guest", tier="classic")
    sign_in_as(testapp, seed, "marketer", PASSWORD, ["marketing"], ["all"])
    home = testapp.get("/marketing")
    assert 'href="http://localhost/marketing"' in home.text  # the navigation entry
    form = testapp.get("/marketing/segments/new")
    bad = testapp.post("/marketing/segments/new", {"csrf_token": csrf_of(form), "name": "Gold", "tiers": "gold",
                                                   "visits_min": "5", "visits_max": "2"}, status=422)
    assert "must not be below visits_min" in bad.text
    saved = testapp.post("/marketing/segments/new", {"csrf_token": csrf_of(form), "name": "Gold", "tiers": "gold",
                                                     "statuses": "active"}, status=303).follow()
    assert '<span id="count">1</span>' in saved.text and "Gold Guest" in saved.text
    assert "Classic Guest" not in saved.text
    segment_id = saved.request.path.rsplit("/", 1)[1]
    exported = testapp.get(f"/marketing/segments/{segment_id}/export?format=csv")
    rows = list(csv.reader(io.StringIO(exported.body.decode("utf-8-sig"))))
    assert any("Gold Guest" in row for row in rows) and not any("Classic Guest" in row for row in rows)
    assert len(audited(seed.db, "segment.save")) == 1
    unsure = testapp.post("/marketing/segments/new", {"csrf_token": csrf_of(form), "name": "Leaving",
                                                      "churn_risk": "maybe"}, status=400)
    assert 'name="churn_risk"' in unsure.text and "churn_risk" in unsure.text
    leaving = testapp.post("/marketing/segments/new", {"csrf_token": csrf_of(form), "name": "Leaving",
                                                       "churn_risk": "true"}, status=303).follow()
    assert '<span id="count">0</span>' in leaving.text  # nobody has visited yet
    assert '<option value="true" selected="selected"' in leaving.text


def test_a_campaign_is_created_scheduled_and_cancelled(testapp, seed):
    sign_in_as(testapp, seed, "marketer", PASSWORD, ["marketing"], ["all"])
    form = testapp.get("/marketing/segments/new")
    saved = testapp.post("/marketing/segments/new", {"csrf_token": csrf_of(form), "name": "All",
                                                     "statuses": "active"}, status=303).follow()
    segment_id = saved.request.path.rsplit("/", 1)[1]
    page = testapp.get(f"/marketing/campaigns/new?segment={segment_id}")
    refused = testapp.post("/marketing/campaigns/new", {"csrf_token": csrf_of(page), "name": "Autumn",
                                                         "segment_id": segment_id, "subject": "Hi", "body": "Offers",
                                                         "control_percent": "80"}, status=400)
    assert "control_percent" in refused.text
    created = testapp.post("/marketing/campaigns/new", {"csrf_token": csrf_of(page), "name": "Autumn",
                                                         "segment_id": segment_id, "subject": "Hi", "body": "Offers",
                                                         "control_percent": "10", "bonus_points": "100"},
                           status=303).follow()
    assert '<dd id="status">draft</dd>' in created.text and '<td id="recipients">0</td>' in created.text
    path = created.request.path
    scheduled = testapp.post(path, {"csrf_token": csrf_of(created), "action": "schedule",
                                    "send_at": "2030-01-01T09:00"}, status=303).follow()
    assert '<dd id="status">scheduled</dd>' in scheduled.text
    cancelled = testapp.post(path, {"csrf_token": csrf_of(scheduled), "action": "cancel"}, status=303).follow()
    assert '<dd id="status">cancelled</dd>' in cancelled.text
    assert [e.action for e in audited(seed.db, "campaign.cancel")] == ["campaign.cancel"]
