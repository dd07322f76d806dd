"""The bulk exchange screens with WebTest: exports downloaded, an import uploaded, previewed with
its filter, a conflict resolved, confirmed and applied chunk by chunk as the page's script does,
bad files and stale previews refused beside their field, and who may use the screens; on SQLite
and PostgreSQL."""
import csv
import io
import json

import pytest
from sqlalchemy import func, select, update

from lps_core.bulk.models import ImportBatch
from lps_core.cards.models import Card
from lps_core.members.models import Member
from lps_core.testing import audited, csrf_of, sign_in_as

PASSWORD = "bulk-pass-12345"


def csv_file(rows, columns) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue().encode()


@pytest.fixture
def admin(testapp, seed):
    return sign_in_as(testapp, seed, "hq-admin", PASSWORD, ["administrator"], ["all"])


@pytest.fixture
def li(seed):
    card_no = seed.member_card("Li Wei")
    member_id = seed.db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    seed.db.rollback()
    return member_id


def upload(testapp, csrf, content, name="members.csv", kind="members", status=303, **fields):
    return testapp.post("/bulk/imports", {"csrf_token": csrf, "kind": kind, **fields},
                        upload_files=[("file", name, content)], status=status)


def members(db) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(Member))


def test_exports_download_with_personal_data_for_an_administrator(testapp, seed, admin, li):
    page = testapp.get("/bulk")
    assert "Data exchange" in page.text and page.html.find(id="export-members-xlsx") is not None
    response = testapp.get("/bulk/export", {"kind": "members", "format": "csv"})
    assert response.content_disposition.startswith('attachment; filename="lps-members-')
    assert response.cache_control.no_store
    rows = list(csv.DictReader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert [row["name"] for row in rows] == ["Li Wei"] and rows[0]["phone"] == "'+8613800000000"
    response = testapp.get("/bulk/export", {"kind": "cards", "format": "json"})
    assert json.loads(response.body)["rows"][0]["member_id"] == str(li)
    refused = testapp.get("/bulk/export", {"kind": "everything", "format": "csv"}, status=400)
    assert "kind" in refused.text
    refused = testapp.get("/bulk/export", {"kind": "members", "changed_since": "2026-13-01"}, status=400)
    assert refused.html.find(id="export-changed_since")["aria-invalid"] == "true"
    assert testapp.get("/bulk/export", status=303).location.endswith("/bulk")
    exports = audited(seed.db, "bulk.export")
    assert [(entry.actor_name, entry.after["kind"], entry.after["rows"]) for entry in exports] == [
        ("hq-admin", "members", 1), ("hq-admin", "cards", 1)]
    assert "13800000000" not in json.dumps([entry.after for entry in exports])


def test_upload_preview_filter_resolve_confirm_and_apply(testapp, seed, admin, li):
    content = csv_file([
        {"member_id": str(li), "name": "Li Wei Jr"},
        {"name": "Zhang San", "phone": "13800000003"},
        {"name": "Zhang San Two", "phone": "13800000003"},
        {"name": "Wang Fang", "phone": "13800000002", "birthday": "2999-01-01"},
        {"name": "Chen Jing", "email": "chen@example.com"},
    ], ["member_id", "name", "phone", "email", "birthday"])
    before = members(seed.db)
    page = upload(testapp, admin, content).follow()
    assert "Nothing is written until you confirm" in page.text
    assert page.html.find(id="row-2").find(class_="diff").text.strip() == "name: Li Wei → Li Wei Jr"
    assert "birthday" in page.html.find(id="row-5").find(class_="errors").text
    assert page.html.find(id="filter-conflict").text.split()[-1] == "(2)"
    conflicts = testapp.get(page.request.url + "&action=conflict")
    assert [row["id"] for row in conflicts.html.find(id="rows").tbody.find_all("tr")] == ["row-3", "row-4"]
    assert members(seed.db) == before  # a preview writes nothing

    batch_id = seed.db.scalar(select(ImportBatch.id))
    refused = testapp.post(f"/bulk/imports/{batch_id}/confirm", {"csrf_token": admin}, status=409)
    assert refused.html.find(id="conflicts-error") is not None
    testapp.post(f"/bulk/imports/{batch_id}/resolve", {"csrf_token": admin, "row_no": "4", "resolution": "bogus"},
                 status=422)
    back = testapp.post(f"/bulk/imports/{batch_id}/resolve", {"csrf_token": admin, "row_no": "4",
                                                                 "resolution": "apply", "action": "conflict"},
                        status=303)
    assert "action=conflict" in back.location
    page = back.follow()
    assert page.html.find(id="row-3").find(class_="resolution").text == "skip"
    page = testapp.post(f"/bulk/imports/{batch_id}/confirm", {"csrf_token": admin}, status=303).follow()
    form = page.html.find(id="apply-form")
    assert form["data-status"] == "applying" and page.html.find(id="progress")["value"] == "0"
    assert any(script.get("src", "").endswith("/bulk/static/bulk.js") for script in page.html.find_all("script"))
    assert members(seed.db) == before  # confirmed, not yet applied: the script applies it
    state = testapp.post(form["action"], {"csrf_token": admin}, headers={"Accept": "application/json"}).json
    while state["status"] == "applying":
        state = testapp.post(form["action"], {"csrf_token": admin}, headers={"Accept": "application/json"}).json
    assert state["status"] == "applied" and state["applied_rows"] == 3 and state["percent"] == 100
    assert members(seed.db) == before + 2
    names = set(seed.db.scalars(select(Member.name)))
    assert {"Li Wei Jr", "Zhang San Two", "Chen Jing"} <= names and "Zhang San" not in names
    assert [entry.after["rows_to_apply"] for entry in audited(seed.db, "bulk.import_confirm")] == [3]

    again = upload(testapp, admin, content).follow()
    assert "imported before" in again.text and again.request.url.endswith(f"batch={batch_id}")
    assert members(seed.db) == before + 2


def test_a_stale_preview_is_refused_on_the_screen(testapp, seed, admin, li):
    page = upload(testapp, admin, csv_file([{"member_id": str(li), "name": "Li Two"}], ["member_id", "name"])).follow()
    seed.db.execute(update(Member).where(Member.id == li).values(name="Li Edited"))
    seed.db.commit()
    action = page.html.find(id="confirm-form")["action"]
    refused = testapp.post(action, {"csrf_token": admin}, status=409)
    assert "row 2: member" in refused.html.find(id="stale").text
    seed.db.rollback()
    assert seed.db.scalar(select(Member.name).where(Member.id == li)) == "Li Edited"


@pytest.mark.parametrize("content, name, fields, message", [
    (b"nom,telephone\nLi,138\n", "members.csv", {}, "unknown column nom, telephone"),
    ("name,phone\n李伟,13800000001\n".encode("gb18030"), "members.csv", {}, "is not UTF-8 text"),
    (b"PK\x03\x04junk", "members.csv", {}, "is XLSX, not CSV"),
    (b"name\nLi\n", "members.csv", {"kind": "everything"}, None),
])
def test_a_bad_file_is_told_beside_its_field(testapp, seed, admin, content, name, fields, message):
    page = upload(testapp, admin, content, name, status=400, **fields)
    if message:
        assert message in page.html.find(id="file-error").text
    else:
        assert page.html.find(id="kind")["aria-invalid"] == "true"
    seed.db.rollback()
    assert seed.db.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_an_upload_without_a_file(testapp, seed, admin):
    page = testapp.post("/bulk/imports", {"csrf_token": admin, "kind": "members"}, status=400)
    assert page.html.find(id="file-error").text == "choose a file"


def test_only_head_office_operators_with_the_permission_reach_the_screens(testapp, seed):
    csrf = sign_in_as(testapp, seed, "rest-admin", PASSWORD, ["administrator"], ["REST"])
    testapp.get("/bulk", status=403)
    testapp.get("/bulk/export", {"kind": "members"}, status=403)
    testapp.post("/bulk/imports", {"csrf_token": csrf, "kind": "members"},
                 upload_files=[("file", "m.csv", b"name\nLi\n")], status=403)


def test_a_cashier_has_no_data_exchange(testapp, seed):
    sign_in_as(testapp, seed, "cashier-1", PASSWORD, ["cashier"], ["all"])
    assert "Data exchange" not in testapp.get("/").text
    testapp.get("/bulk", status=403)
    testapp.get("/bulk/imports", status=403)


def test_the_imports_list_and_a_discarded_preview(testapp, seed, admin):
    assert testapp.get("/bulk/imports").html.find(id="no-imports") is not None
    page = upload(testapp, admin, csv_file([{"name": "Li", "phone": "13800000001"}], ["name", "phone"])).follow()
    page = testapp.post(page.html.find(id="discard-form")["action"], {"csrf_token": csrf_of(page)},
                        status=303).follow()
    assert "discarded" in page.html.find(id="batches").text
    testapp.get("/bulk/imports", {"batch": "999"}, status=404)
    for action in ("confirm", "apply", "resolve", "skip-conflicts", "discard"):
        testapp.post(f"/bulk/imports/999/{action}", {"csrf_token": admin}, status=404)
    assert testapp.get("/bulk/static/bulk.js").content_type == "text/javascript"


# --- The same over the API, with a key of scope `website` -------------------------------------------

def test_the_api_exports_previews_resolves_confirms_and_applies(testapp, seed, li):
    key = {"Authorization": f"Bearer {seed.api_key('REST', ['website'])}"}
    other = {"Authorization": f"Bearer {seed.api_key('REST', ['members'])}"}
    exported = testapp.get("/api/v1/exports/members", {"format": "json"}, headers=key)
    assert json.loads(exported.body)["rows"][0]["phone"] == "+8613800000000"
    content = csv_file([{"name": "Zhang San", "phone": "13800000003"}, {"name": "Zhang Two", "phone": "13800000003"},
                        {"member_id": str(li), "name": "Li Wei Jr"}], ["member_id", "name", "phone"])
    batch = testapp.post("/api/v1/imports/members?file_name=members.csv", content, headers=key, status=201).json
    assert batch["status"] == "previewed" and batch["counts"] == {"conflict": 2, "change": 1}
    page = testapp.get(f"/api/v1/import-batches/{batch['id']}", {"action": "conflict"}, headers=key).json
    assert [row["row_no"] for row in page["rows"]] == [2, 3] and page["rows"][0]["conflict"]["options"] == ["skip", "apply"]
    refused = testapp.post(f"/api/v1/import-batches/{batch['id']}/confirm", headers=key, status=409).json
    assert "conflicts" in refused["fields"]
    testapp.post_json(f"/api/v1/import-batches/{batch['id']}/resolutions", {"row_no": 2, "resolution": "bogus"},
                      headers=key, status=422)
    testapp.post_json(f"/api/v1/import-batches/{batch['id']}/resolutions", {"row_no": 2, "resolution": "apply"},
                      headers=key)
    state = testapp.post(f"/api/v1/import-batches/{batch['id']}/confirm", headers=key).json
    assert members(seed.db) == 1
    while state["status"] == "applying":
        state = testapp.post(f"/api/v1/import-batches/{batch['id']}/apply", headers=key).json
    assert state["status"] == "applied" and state["applied_rows"] == 2 and members(seed.db) == 2
    again = testapp.post("/api/v1/imports/members?file_name=members.csv", content, headers=key, status=200).json
    assert again["id"] == batch["id"] and again["status"] == "applied"
    bad = testapp.post("/api/v1/imports/members?file_name=members.csv", b"PK\x03\x04junk", headers=key, status=422)
    assert "is XLSX, not CSV" in bad.json["fields"]["file"]
    assert "file" in testapp.post("/api/v1/imports/members", b"", headers=key, status=422).json["fields"]
    testapp.get("/api/v1/exports/members", headers=other, status=403)
    testapp.post("/api/v1/imports/members", content, headers=other, status=403)
