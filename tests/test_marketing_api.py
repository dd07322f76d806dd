"""The marketing API: a segment saved and counted, bad input 4xx naming the field, a campaign
created, scheduled and cancelled, the scope required, every change audited."""
from datetime import timedelta

from lps_core.marketing.models import Campaign
from lps_core.testing import audited
from lps_core.timeutil import utcnow


def headers(seed, scopes=("marketing",)):
    return {"Authorization": f"Bearer {seed.api_key('REST', list(scopes))}"}


def test_a_segment_is_saved_counted_and_previewed(testapp, seed):
    seed.member_card("Gold One", tier="gold")
    seed.member_card("Classic One", tier="classic")
    auth = headers(seed)
    saved = testapp.post_json("/api/v1/segments", {"name": "Gold", "definition": {"tiers": ["gold"]}},
                              headers=auth, status=201).json
    assert (saved["count"], [row["name"] for row in saved["preview"]]) == (1, ["Gold One"])
    read = testapp.get(f"/api/v1/segments/{saved['id']}?limit=5", headers=auth).json
    assert read["count"] == 1 and read["definition"] == {"tiers": ["gold"]}
    taken = testapp.post_json("/api/v1/segments", {"name": "Gold", "definition": {}}, headers=auth, status=409).json
    assert "name" in taken["fields"]
    assert [entry.action for entry in audited(seed.db, "segment.save")] == ["segment.save"]


def test_a_category_segment_finds_the_lines_a_till_posted(testapp, seed):
    """The category condition reads bills' item lines as the earn request stores them."""
    wine, food = seed.member_card("Wine Buyer"), seed.member_card("Food Buyer")
    seed.member_card("Nothing Bought")
    till = headers(seed, ["transactions"])
    for card_no, bill_no, category in ((wine, "C1", "wine"), (food, "C2", "food")):
        testapp.post_json("/api/v1/transactions", {
            "card_no": card_no, "bill_no": bill_no, "amount": "80.00",
            "items": [{"sku": "S1", "category": category, "qty": "2", "amount": "60.00"},
                      {"sku": "S2", "amount": "20.00"}]}, headers=till, status=201)
    saved = testapp.post_json("/api/v1/segments", {"name": "Wine", "definition": {"categories": ["wine"]}},
                              headers=headers(seed), status=201).json
    assert (saved["count"], [row["name"] for row in saved["preview"]]) == (1, ["Wine Buyer"])
    both = testapp.post_json("/api/v1/segments", {"name": "Either", "definition": {"categories": ["wine", "food"]}},
                             headers=headers(seed), status=201).json
    assert both["count"] == 2


def test_bad_input_names_the_field(testapp, seed):
    auth = headers(seed)
    unknown = testapp.post_json("/api/v1/segments", {"name": "X", "definition": {"tiers": ["nope"]}},
                                headers=auth, status=422).json
    assert "definition.tiers" in unknown["fields"]
    wrong = testapp.post_json("/api/v1/segments", {"name": "X", "definition": {"birthday_months": [13]}},
                              headers=auth, status=400).json
    assert any(name.startswith("definition.birthday_months") for name in wrong["fields"])
    unsure = testapp.post_json("/api/v1/segments", {"name": "X", "definition": {"churn_risk": "maybe"}},
                               headers=auth, status=400).json
    assert "definition.churn_risk" in unsure["fields"]
    missing = testapp.post_json("/api/v1/campaigns", {"name": "C", "segment_id": 999, "subject": "s", "body": "b"},
                                headers=auth, status=422).json
    assert "segment_id" in missing["fields"]
    testapp.get("/api/v1/segments/1", headers=headers(seed, ["members"]), status=403)
    testapp.get("/api/v1/campaigns/12345", headers=auth, status=404)


def test_a_campaign_is_created_scheduled_and_cancelled(testapp, seed):
    auth = headers(seed)
    segment = testapp.post_json("/api/v1/segments", {"name": "All", "definition": {}}, headers=auth, status=201).json
    draft = testapp.post_json("/api/v1/campaigns", {"name": "Autumn", "segment_id": segment["id"], "subject": "Hi",
                                                    "body": "Offers", "control_percent": 10}, headers=auth,
                              status=201).json
    assert (draft["status"], draft["results"]["recipients"]) == ("draft", 0)
    when = (utcnow() + timedelta(days=1)).isoformat()
    scheduled = testapp.post_json(f"/api/v1/campaigns/{draft['id']}", {"action": "schedule", "send_at": when},
                                  headers=auth).json
    assert scheduled["status"] == "scheduled"
    cancelled = testapp.post_json(f"/api/v1/campaigns/{draft['id']}", {"action": "cancel"}, headers=auth).json
    assert cancelled["status"] == "cancelled"
    again = testapp.post_json(f"/api/v1/campaigns/{draft['id']}", {"action": "schedule"}, headers=auth, status=409)
    assert "status" in again.json["fields"]
    assert seed.db.get(Campaign, draft["id"]).status == "cancelled"
    assert [e.action for e in audited(seed.db, "campaign.cancel")] == ["campaign.cancel"]


def test_a_churn_risk_segment_counts_the_churn_warnings_members(testapp, seed, wsgi_app):
    from sqlalchemy import insert, update

    from lps_core.members.activity import month_of
    from lps_core.members.models import Member, MemberActivity

    now = utcnow()
    for name in ("Away", "Regular"):
        seed.member_card(name)
    for name, days, visits in (("Away", 100, 6), ("Regular", 3, 6)):
        member_id = seed.db.scalar(update(Member).where(Member.name == name)
                                   .values(last_activity_at=now - timedelta(days=days)).returning(Member.id))
        seed.db.execute(insert(MemberActivity).values(member_id=member_id, month=month_of(now - timedelta(days=days)),
                                                      bills=visits, stays=0, spend_cents=10000, points=0, nights=0))
    seed.db.commit()
    auth = headers(seed)
    segment = {"name": "Leaving", "definition": {"churn_risk": True}}
    # 100 days x 6 visits = 600 >= 1 x the window (at most 366 days), but < 2 x it: the app's settings decide
    assert testapp.post_json("/api/v1/segments", segment, headers=auth, status=201).json["count"] == 0
    settings = wsgi_app.registry.settings
    settings["lps.analytics.churn_factor"] = "1"
    try:
        saved = testapp.post_json("/api/v1/segments", {**segment, "name": "Leaving 2"}, headers=auth, status=201).json
    finally:
        del settings["lps.analytics.churn_factor"]
    assert (saved["count"], [row["name"] for row in saved["preview"]]) == (1, ["Away"])
    assert saved["definition"] == {"churn_risk": True}
