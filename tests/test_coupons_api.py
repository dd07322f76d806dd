"""The coupons API: types saved by code (a field the kind does not take, or needs, is 422 naming it),
issuing idempotent per source_ref, unknown members 422 naming member_ids, and the scopes."""
import pytest
from sqlalchemy import select

from lps_core.cards.models import Card


@pytest.fixture
def hq(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST', ['coupons.manage'])}"}


TYPE = {"code": "PCT10", "name": "10% off", "kind": "percent", "percent": "10", "valid_days": 30,
        "min_spend": "100.00", "outlets": ["REST"]}


def test_types_are_saved_by_code_and_refused_naming_the_field(testapp, hq):
    saved = testapp.post_json("/api/v1/coupon-types", TYPE, headers=hq).json
    assert (saved["percent"], saved["min_spend"], saved["outlets"], saved["uses"]) == ("10", "100.00", ["REST"], 1)
    changed = testapp.post_json("/api/v1/coupon-types", {**TYPE, "name": "Ten percent"}, headers=hq).json
    assert changed["name"] == "Ten percent"
    assert [t["code"] for t in testapp.get("/api/v1/coupon-types", headers=hq).json["coupon_types"]] == ["PCT10"]
    for body, field in (({**TYPE, "value": "5.00"}, "value"), ({**TYPE, "percent": None}, "percent"),
                        ({**TYPE, "percent": "120"}, "percent"), ({**TYPE, "outlets": ["NOPE"]}, "outlets"),
                        ({**TYPE, "valid_days": None}, "valid_days"), ({**TYPE, "kind": "gift"}, "kind")):
        refused = testapp.post_json("/api/v1/coupon-types", body, headers=hq, status=(400, 422)).json
        assert field in refused["fields"], (body, refused)


def test_issuing_is_idempotent_per_source_ref(testapp, db, seed, hq):
    testapp.post_json("/api/v1/coupon-types", TYPE, headers=hq)
    card_no = seed.member_card()
    member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    first = testapp.post_json("/api/v1/coupons", {"coupon_type": "PCT10", "member_ids": [member_id],
                                                  "source_ref": "mailing-1"}, headers=hq, status=201).json
    again = testapp.post_json("/api/v1/coupons", {"coupon_type": "PCT10", "member_ids": [member_id],
                                                  "source_ref": "mailing-1"}, headers=hq, status=201).json
    assert first == again and first["coupons"][0]["status"] == "issued"
    refused = testapp.post_json("/api/v1/coupons", {"coupon_type": "PCT10", "member_ids": [member_id + 999]},
                                headers=hq, status=422).json
    assert "member_ids" in refused["fields"]


def test_the_scopes_are_needed(testapp, seed):
    till = {"Authorization": f"Bearer {seed.api_key('REST', ['cashier'])}"}
    testapp.get("/api/v1/coupon-types", headers=till, status=403)


def test_a_member_id_beyond_the_members_key_is_refused_not_a_server_error(testapp, seed):
    """members.id is a 32-bit key: a larger id is malformed (400 naming member_ids), not a 500 from
    PostgreSQL's integer range."""
    auth = {"Authorization": f"Bearer {seed.api_key('REST')}"}
    refused = testapp.post_json("/api/v1/coupons", {"coupon_type": "ANY", "member_ids": [4611686018427387903]},
                                headers=auth, status=400).json
    assert any(name.startswith("member_ids") for name in refused["fields"])
