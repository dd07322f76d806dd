def test_enrol_approve_earn(testapp, seed):
    key = seed.api_key()
    auth = {"Authorization": f"Bearer {key}"}
    member = testapp.post_json("/api/v1/members", {"name": "A", "phone": "+8613800000001", "channel": "web"},
                               headers=auth, status=201).json
    card_no = testapp.post_json(f"/api/v1/members/{member['id']}/approve", {}, headers=auth).json["card_no"]
    earned = testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "B1", "amount": "100.50"},
                               headers=auth, status=201).json
    assert earned["points"] == 100
