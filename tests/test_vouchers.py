"""Vouchers: issued through the API and the command line, taken once by a settlement's voucher
tender (also when settlements race for one voucher on PostgreSQL), given back by a full refund,
fenced by outlet, and earning points only when lps.vouchers.earn_points says so."""
import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from lps_core.cashier.models import Settlement
from lps_core.errors import ConfigurationError
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import LedgerEntry
from lps_core.testing import TEST_SETTINGS, SERVER_THREADS, post_all_at_once
from lps_core.timeutil import isoformat, utcnow
from lps_core.vouchers.models import Voucher
from lps_core.vouchers.services import vouchers_earn_points


@pytest.fixture
def rest(seed):
    return {"Authorization": f"Bearer {seed.api_key('REST')}"}


@pytest.fixture
def spa(seed):
    return {"Authorization": f"Bearer {seed.api_key('SPA')}"}


def in_days(days):
    return isoformat(utcnow() + timedelta(days=days))


def issue(testapp, auth, status=201, **body):
    body = {"value": "50.00", "valid_to": in_days(30), **body}
    return testapp.post_json("/api/v1/vouchers", body, headers=auth, status=status).json


def settle(testapp, auth, card_no, tenders, bill_no="B1", amount="100.00", status=201):
    return testapp.post_json("/api/v1/settlements", {"card_no": card_no, "bill_no": bill_no, "amount": amount,
                                                     "tenders": tenders}, headers=auth, status=status).json


def voucher_row(db, code) -> Voucher:
    db.rollback()  # see what the app committed
    return db.scalar(select(Voucher).where(Voucher.code == code))


def counts(db):
    db.rollback()
    return (db.scalar(select(func.count()).select_from(Settlement)),
            db.scalar(select(func.count()).select_from(LedgerEntry)),
            db.scalar(select(func.count()).select_from(Voucher)))


def test_a_voucher_pays_once_and_records_its_settlement(testapp, seed, rest):
    card_no = seed.member_card()
    [voucher] = issue(testapp, rest)["vouchers"]
    assert (voucher["value"], voucher["status"], voucher["outlet"]) == ("50.00", "issued", "REST")
    code = voucher["code"]
    doc = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code.lower()},
                                          {"kind": "cash", "amount": "50.00"}])
    assert doc["tenders"][0]["reference"] == code  # as stored, whatever case the till typed
    row = voucher_row(seed.db, code)
    assert (row.status, row.settlement_id) == ("redeemed", doc["id"]) and row.redeemed_at is not None
    looked_up = testapp.get(f"/api/v1/vouchers/{code}", headers=rest).json
    assert (looked_up["status"], looked_up["settlement_id"]) == ("redeemed", doc["id"])

    before = counts(seed.db)
    again = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code},
                                            {"kind": "cash", "amount": "50.00"}], bill_no="B2", status=422)
    assert again["fields"] == {"tenders[0].reference": "already redeemed"}
    assert counts(seed.db) == before  # nothing of the second bill was kept
    # A retry of the first bill replays it: the voucher is not taken again.
    replay = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code.lower()},
                                             {"kind": "cash", "amount": "50.00"}], status=200)
    assert replay["replayed"] and replay["id"] == doc["id"]
    assert find_drift(seed.db) == []


@pytest.mark.parametrize("tender, field, reason", [
    ({"kind": "voucher", "amount": "100.00", "reference": "VNOSUCHVOUCHER"}, "tenders[0].reference",
     "no such voucher"),
    ({"kind": "voucher", "amount": "100.00", "reference": "X" * 64}, "tenders[0].reference", "no such voucher"),
    ({"kind": "voucher", "amount": "100.00"}, "tenders[0].reference", "is required for a voucher tender"),
])
def test_an_unknown_or_missing_voucher_is_refused(testapp, seed, rest, tender, field, reason):
    card_no = seed.member_card()
    before = counts(seed.db)
    assert settle(testapp, rest, card_no, [tender], status=422)["fields"] == {field: reason}
    assert counts(seed.db) == before


def _stored_voucher(db, code, *, valid_from, valid_to, status="issued", outlet_id=None):
    now = utcnow()
    db.execute(insert(Voucher).values(code=code, face_value_cents=10000, valid_from=valid_from, valid_to=valid_to,
                                      issued_at=now - timedelta(days=60), outlet_id=outlet_id, status=status,
                                      voided_at=now if status == "void" else None))
    db.commit()


@pytest.mark.parametrize("valid_from, valid_to, status, reason", [
    (-60, -1, "issued", "this voucher has expired"),
    (1, 30, "issued", "not valid yet"),
    (-60, 30, "void", "this voucher is void"),
])
def test_an_expired_early_or_void_voucher_is_refused(testapp, seed, rest, valid_from, valid_to, status, reason):
    card_no = seed.member_card()
    now = utcnow()
    _stored_voucher(seed.db, "VTEST", valid_from=now + timedelta(days=valid_from),
                    valid_to=now + timedelta(days=valid_to), status=status)
    before = counts(seed.db)
    answer = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "100.00", "reference": "VTEST"}],
                    status=422)
    assert answer["fields"] == {"tenders[0].reference": reason}
    assert counts(seed.db) == before
    assert voucher_row(seed.db, "VTEST").status == status


def test_a_voucher_is_spent_whole_and_pays_at_most_its_face_value(testapp, seed, rest):
    card_no = seed.member_card()
    code = issue(testapp, rest)["vouchers"][0]["code"]
    too_much = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "60.00", "reference": code},
                                               {"kind": "cash", "amount": "40.00"}], status=422)
    assert too_much["fields"] == {"tenders[0].amount": "at most 50.00, the voucher's face value"}
    assert voucher_row(seed.db, code).status == "issued"
    # A 30.00 bill takes the whole voucher; the 20.00 left of it is not given back.
    doc = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "30.00", "reference": code}],
                 amount="30.00")
    assert doc["charged"] == "30.00" and voucher_row(seed.db, code).status == "redeemed"
    refused = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "20.00", "reference": code}],
                     bill_no="B2", amount="20.00", status=422)
    assert refused["fields"] == {"tenders[0].reference": "already redeemed"}


def test_one_voucher_named_twice_in_a_bill_is_refused(testapp, seed, rest):
    card_no = seed.member_card()
    code = issue(testapp, rest)["vouchers"][0]["code"]
    answer = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code},
                                             {"kind": "voucher", "amount": "50.00", "reference": code}], status=422)
    assert answer["fields"] == {"tenders[1].reference": "this voucher is already a tender of this bill"}
    assert voucher_row(seed.db, code).status == "issued"


def test_two_vouchers_pay_one_bill(testapp, seed, rest):
    card_no = seed.member_card()
    first, second = (v["code"] for v in issue(testapp, rest, count=2)["vouchers"])
    settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": first},
                                    {"kind": "voucher", "amount": "50.00", "reference": second}])
    assert {voucher_row(seed.db, code).status for code in (first, second)} == {"redeemed"}


def test_another_outlets_voucher_is_unknown_and_a_programme_wide_one_is_taken_everywhere(testapp, seed, rest, spa):
    card_no = seed.member_card()
    own = issue(testapp, rest)["vouchers"][0]["code"]
    wide = issue(testapp, rest, programme_wide=True)["vouchers"][0]
    assert wide["outlet"] is None
    at_spa = settle(testapp, spa, card_no, [{"kind": "voucher", "amount": "50.00", "reference": own},
                                            {"kind": "cash", "amount": "50.00"}], status=422)
    assert at_spa["fields"] == {"tenders[0].reference": "no such voucher"}
    unknown = testapp.get("/api/v1/vouchers/VNOSUCHVOUCHER", headers=spa, status=404).json
    other = testapp.get(f"/api/v1/vouchers/{own}", headers=spa, status=404).json
    assert (other["detail"].replace(own, "X"), other["fields"]) == \
        (unknown["detail"].replace("VNOSUCHVOUCHER", "X"), unknown["fields"])
    testapp.post_json(f"/api/v1/vouchers/{own}/void", {}, headers=spa, status=404)
    assert voucher_row(seed.db, own).status == "issued"
    settle(testapp, spa, card_no, [{"kind": "voucher", "amount": "50.00", "reference": wide["code"]},
                                   {"kind": "cash", "amount": "50.00"}])
    assert testapp.get(f"/api/v1/vouchers/{wide['code']}", headers=spa).json["status"] == "redeemed"


def test_the_voucher_paid_part_earns_no_points_by_default(testapp, seed, rest):
    card_no = seed.member_card()
    code = issue(testapp, rest)["vouchers"][0]["code"]
    doc = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code},
                                          {"kind": "cash", "amount": "50.00"}])
    assert (doc["charged"], doc["earning_basis"], doc["points"]) == ("100.00", "50.00", 50)


@pytest.fixture(scope="module")
def earning_app(database_url):
    from webtest import TestApp

    from lps_core import main

    return TestApp(main({}, **{"sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "0",
                               "lps.rules.cache_seconds": "0", "lps.vouchers.earn_points": "true", **TEST_SETTINGS}))


def test_the_voucher_paid_part_earns_when_the_setting_says_so(earning_app, seed, rest):
    card_no = seed.member_card()
    code = issue(earning_app, rest)["vouchers"][0]["code"]
    doc = settle(earning_app, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code},
                                              {"kind": "cash", "amount": "50.00"}])
    assert (doc["charged"], doc["earning_basis"], doc["points"]) == ("100.00", "100.00", 100)
    # The setting decides earning only: the voucher is still taken once.
    again = settle(earning_app, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code},
                                                {"kind": "cash", "amount": "50.00"}], bill_no="B2", status=422)
    assert again["fields"] == {"tenders[0].reference": "already redeemed"}


@pytest.mark.parametrize("value, expected", [(None, False), ("false", False), ("true", True), (" Yes ", True),
                                             ("0", False)])
def test_the_earn_points_setting_is_read_as_a_boolean(value, expected):
    settings = {} if value is None else {"lps.vouchers.earn_points": value}
    assert vouchers_earn_points(settings) is expected


def test_a_wrong_earn_points_setting_stops_start_up(database_url):
    from lps_core import main

    with pytest.raises(ConfigurationError, match="lps.vouchers.earn_points must be true or false, not 'sometimes'"):
        main({}, **{"sqlalchemy.url": database_url, "lps.vouchers.earn_points": "sometimes", **TEST_SETTINGS})


def test_a_full_refund_gives_the_voucher_back_and_a_partial_one_does_not(testapp, seed, rest):
    card_no = seed.member_card()
    code = issue(testapp, rest)["vouchers"][0]["code"]
    doc = settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code},
                                          {"kind": "cash", "amount": "50.00"}])
    assert doc["points"] == 50
    partial = testapp.post_json(f"/api/v1/settlements/{doc['id']}/refunds", {"amount": "40.00", "refund_no": "R1"},
                                headers=rest, status=201).json
    voucher_back = next(t for t in partial["tenders"] if t["kind"] == "voucher")
    assert (voucher_back["amount"], voucher_back["voucher_reinstated"]) == ("20.00", False)
    assert partial["points"] == 20  # 40.00 of the 100.00 bill: 40% of its 50 points
    assert voucher_row(seed.db, code).status == "redeemed"

    rest_of_it = testapp.post_json(f"/api/v1/settlements/{doc['id']}/refunds", {}, headers=rest, status=201).json
    voucher_back = next(t for t in rest_of_it["tenders"] if t["kind"] == "voucher")
    assert (voucher_back["amount"], voucher_back["voucher_reinstated"]) == ("30.00", True)
    assert rest_of_it["settlement"]["refundable"] == "0.00"
    row = voucher_row(seed.db, code)
    assert (row.status, row.settlement_id, row.redeemed_at) == ("issued", None, None)
    # The voucher pays again, once.
    settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code}],
           bill_no="B2", amount="50.00")
    assert voucher_row(seed.db, code).status == "redeemed"
    assert find_drift(seed.db) == []


def test_voiding_a_voucher(testapp, seed, rest):
    card_no = seed.member_card()
    code, spent = (v["code"] for v in issue(testapp, rest, count=2)["vouchers"])
    voided = testapp.post_json(f"/api/v1/vouchers/{code}/void", {"reason": "printed twice"}, headers=rest).json
    assert (voided["status"], voided["void_reason"], voided["replayed"]) == ("void", "printed twice", False)
    again = testapp.post(f"/api/v1/vouchers/{code}/void", headers=rest).json  # no body: optional
    assert (again["status"], again["replayed"]) == ("void", True)
    assert settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": code},
                                           {"kind": "cash", "amount": "50.00"}], status=422)["fields"] == \
        {"tenders[0].reference": "this voucher is void"}
    settle(testapp, rest, card_no, [{"kind": "voucher", "amount": "50.00", "reference": spent},
                                    {"kind": "cash", "amount": "50.00"}])
    refused = testapp.post_json(f"/api/v1/vouchers/{spent}/void", {}, headers=rest, status=409).json
    assert refused["fields"] == {"code": "already redeemed"}
    assert voucher_row(seed.db, spent).status == "redeemed"


def test_the_vouchers_api_needs_its_scope_which_no_key_gets_by_default(testapp, seed):
    from lps_core.apikeys.scopes import DEFAULT_SCOPES

    assert "vouchers.manage" not in DEFAULT_SCOPES
    cashier = {"Authorization": f"Bearer {seed.api_key('REST', scopes=['cashier'])}"}
    issue(testapp, cashier, status=403)
    testapp.get("/api/v1/vouchers/VABC", headers=cashier, status=403)
    issue(testapp, {}, status=401)
    assert counts(seed.db)[2] == 0


FULL_WIDTH_FIFTY = "\uff15\uff10.00"


@pytest.mark.parametrize("change, status, field", [
    ({"value": 50}, 400, "value"),
    ({"value": "1e300000"}, 400, "value"),
    ({"value": "10."}, 400, "value"),
    ({"value": ".5"}, 400, "value"),
    ({"value": " 1"}, 400, "value"),
    ({"value": "+1"}, 400, "value"),
    ({"value": FULL_WIDTH_FIFTY}, 400, "value"),
    ({"value": "0.00"}, [400, 422], "value"),  # refused: which of the two is the schema foundation's call
    ({"value": "1" * 13}, 400, "value"),
    ({"count": 0}, 400, "count"),
    ({"count": 101}, 400, "count"),
    ({"count": 2**31}, 400, "count"),
    ({"count": True}, 400, "count"),
    ({"count": "2"}, 400, "count"),
    ({"programme_wide": "yes"}, 400, "programme_wide"),
    ({"valid_to": "2027-01-01"}, 400, "valid_to"),
    ({"valid_to": "2027-01-01T00:00:00"}, 400, "valid_to"),
    ({"valid_to": "2099-12-31T00:00:00Z"}, 422, "valid_to"),
    ({"valid_to": "2001-01-01T00:00:00Z"}, 422, "valid_to"),
    ({"valid_from": in_days(40)}, 422, "valid_to"),
    ({"valid_to": "\x00"}, 400, "valid_to"),
    ({"code": "VMINE"}, 400, "code"),
])
def test_hostile_issue_bodies_are_refused_naming_the_field(testapp, seed, rest, change, status, field):
    answer = issue(testapp, rest, status=status, **change)
    assert field in answer["fields"], answer
    assert counts(seed.db)[2] == 0


def test_a_deeply_nested_or_oversized_body_is_refused(testapp, seed, rest):
    nested = '{"value": ' + "[" * 100 + "]" * 100 + "}"
    answer = testapp.post("/api/v1/vouchers", nested, headers={**rest, "Content-Type": "application/json"},
                          status=400).json
    assert answer["fields"] == {"body": "must not nest deeper than 32 levels"}
    code = issue(testapp, rest)["vouchers"][0]["code"]
    for reason, field in (("x\x00y", "reason"), ("x" * 201, "reason"), ("\ud800", "body")):
        answer = testapp.post(f"/api/v1/vouchers/{code}/void", json.dumps({"reason": reason}),
                              headers={**rest, "Content-Type": "application/json"}, status=400).json
        assert field in answer["fields"], answer
    assert voucher_row(seed.db, code).status == "issued"


@pytest.mark.parametrize("path", ["VNOSUCH", "99999999999", "abc$", "a" * 41, "%00", "---"])
def test_a_bad_or_unknown_code_in_the_path_is_404(testapp, seed, rest, path):
    testapp.get(f"/api/v1/vouchers/{path}", headers=rest, status=404)
    testapp.post_json(f"/api/v1/vouchers/{path}/void", {}, headers=rest, status=404)


def test_the_document_shows_the_vouchers_api(testapp, seed):
    document = testapp.get("/api/v1/openapi.json").json
    assert document["paths"]["/api/v1/vouchers"]["post"]["operationId"] == "issueVouchers"
    assert document["paths"]["/api/v1/vouchers/{code}/void"]["post"]["operationId"] == "voidVoucher"
    assert "VoucherIssueIn" in document["components"]["schemas"]


def test_lps_vouchers_issue_prints_the_codes(tmp_path, database_url, seed):
    from pathlib import Path

    from lps_core.testing import TEST_INI_LINES

    ini = tmp_path / "lps.ini"
    ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\nlps.timezone = Asia/Shanghai\n"
                   f"{TEST_INI_LINES}")
    lps = str(Path(sys.executable).with_name("lps"))
    day = (utcnow() + timedelta(days=30)).date().isoformat()
    result = subprocess.run([lps, "-c", str(ini), "vouchers", "issue", "--count", "3", "--value", "25.50",
                             "--valid-to", day, "--outlet", "SPA"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    codes = result.stdout.split()
    assert len(codes) == 3 == len(set(codes)) and "3 vouchers of 25.50 issued" in result.stderr
    seed.db.rollback()
    rows = seed.db.scalars(select(Voucher).where(Voucher.code.in_(codes))).all()
    assert {(r.face_value_cents, r.status) for r in rows} == {(2550, "issued")}
    # Through the end of that day in Shanghai: 16:00 UTC of the day itself.
    assert {isoformat(r.valid_to) for r in rows} == {f"{day}T16:00:00Z"}
    bad = subprocess.run([lps, "-c", str(ini), "vouchers", "issue", "--count", "1", "--value", "1e9",
                          "--valid-to", day], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "value:" in bad.stderr


@pytest.mark.postgresql_only
def test_settlements_racing_for_one_voucher_take_it_once(server, seed, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the race needs PostgreSQL's row locking and real concurrency")
    key = seed.api_key("REST")
    card_no = seed.member_card()
    [(status, answer)] = post_all_at_once(server, "/api/v1/vouchers",
                                          [{"value": "50.00", "valid_to": in_days(30)}],
                                          {"Authorization": f"Bearer {key}"})
    assert status == 201
    code = answer["vouchers"][0]["code"]
    bodies = [{"card_no": card_no, "bill_no": f"B{n}", "amount": "80.00",
               "tenders": [{"kind": "voucher", "amount": "50.00", "reference": code},
                           {"kind": "cash", "amount": "30.00"}]} for n in range(SERVER_THREADS)]
    results = post_all_at_once(server, "/api/v1/settlements", bodies, {"Authorization": f"Bearer {key}"})
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [422] * (SERVER_THREADS - 1)
    assert {str(answer["fields"]) for status, answer in results if status == 422} == \
        {str({"tenders[0].reference": "already redeemed"})}
    winner = next(answer for status, answer in results if status == 201)
    seed.db.rollback()
    assert seed.db.scalar(select(func.count()).select_from(Settlement)) == 1
    row = voucher_row(seed.db, code)
    assert (row.status, row.settlement_id) == ("redeemed", winner["id"])
    assert find_drift(seed.db) == []


def test_the_cashier_screen_takes_a_voucher_once_and_names_a_used_one_beside_its_tender(testapp, seed, rest):
    from lps_core.testing import sign_in_as

    card_no = seed.member_card()
    code = issue(testapp, rest)["vouchers"][0]["code"]
    sign_in_as(testapp, seed, "carla", "desk-pass-123", ("cashier",), ("REST",))

    def submit(status):
        form = testapp.get("/cashier", {"card_no": card_no}).forms["bill"]
        form["item-0-amount"] = "80.00"
        form["tender-0-kind"], form["tender-0-amount"], form["tender-0-reference"] = "voucher", "50.00", code
        form["tender-1-kind"], form["tender-1-amount"] = "cash", "30.00"
        return form.submit(status=status)

    done = submit(303).follow()
    assert "The bill is settled." in done.text
    assert voucher_row(seed.db, code).status == "redeemed"
    before = counts(seed.db)
    refused = submit(400)
    assert "already redeemed" in refused.html.select_one("#tenders").text
    assert refused.html.select_one("#tender-0-amount")["aria-invalid"] == "true"
    assert counts(seed.db) == before
