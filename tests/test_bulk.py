"""Bulk exchange (先浏览，确认后再传): exports, and imports that are previewed, resolved and confirmed
before anything is written; idempotent re-imports, stale previews, bad files; on SQLite and
PostgreSQL."""
import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text, update

from lps_core.audit.models import AuditEntry
from lps_core.audit.services import Actor
from lps_core.bulk import services
from lps_core.bulk.exports import export
from lps_core.bulk.files import read_table, write_table
from lps_core.bulk.models import ImportBatch
from lps_core.cards.models import Card, CardNumberCounter
from lps_core.cards.luhn import with_check_digit
from lps_core.cards.services import generate_pool
from lps_core.earning.programme import Programme
from lps_core.errors import Conflict, ValidationFailed
from lps_core.ledger.check import find_drift
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.members.models import Member
from lps_core.members.services import Enrolment, approve_member, enrol_member

ACTOR = Actor("system", "tests")


def csv_file(rows, columns=None) -> bytes:
    columns = columns or list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue().encode()


def member(db, name, phone, email=None) -> int:
    member_id = enrol_member(db, Enrolment(name=name, channel="desk", phone=phone, email=email))
    approve_member(db, member_id)
    db.commit()
    return member_id


def preview(db, kind, content, name="file.csv", **options):
    batch, recognised = services.preview_import(db, kind=kind, content=content, file_name=name, actor=ACTOR,
                                                **options)
    db.commit()
    return batch, recognised


def rows_of(db, batch) -> dict:
    rows, _ = services.rows_page(db, batch, per_page=500)
    return {row["row_no"]: row for row in rows}


def confirm_and_apply(db, batch, programme=None, chunk=services.CHUNK):
    services.confirm(db, batch.id, actor=ACTOR, programme=programme)
    db.commit()
    while batch.status == "applying":
        services.apply_next_chunk(db, batch.id, programme=programme, chunk=chunk)
        db.commit()
    return batch


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def li(seed):
    return member(seed.db, "Li Wei", "+8613800000001", "li@example.com")


def test_the_preview_shows_adds_changes_conflicts_and_errors_and_writes_nothing(db, seed, li):
    chen = member(db, "Chen Jing", "13800000004")
    content = csv_file([
        {"member_id": str(li), "name": "Li Wei Jr", "email": "li@example.com"},
        {"name": "Wang Fang", "phone": "13800000002", "birthday": "1990-05-17"},
        {"name": "Zhang San", "phone": "138 0000 0003"},
        {"name": "Zhang San the other", "phone": "+86 138-0000-0003"},
        {"name": "Bad", "phone": "12", "birthday": "1990-02-30"},
        {"name": "", "email": "nobody@example.com"},
        {"phone": "+8613800000004", "name": "Chen Jing"},
    ], ["member_id", "name", "phone", "email", "birthday"])
    members_before, entries_before = count(db, Member), count(db, LedgerEntry)
    batch, recognised = preview(db, "members", content)
    assert not recognised and batch.status == "previewed"
    rows = rows_of(db, batch)
    assert rows[2]["action"] == "change" and rows[2]["target_id"] == li
    assert rows[2]["diff"] == {"name": ["Li Wei", "Li Wei Jr"]}
    assert rows[3]["action"] == "add" and rows[3]["values"]["phone"] == "+8613800000002"
    assert rows[4]["action"] == rows[5]["action"] == "conflict"
    assert rows[4]["conflict"]["kind"] == "duplicate" and rows[4]["conflict"]["rows"] == [4, 5]
    assert rows[4]["base_action"] == "add"
    assert set(rows[6]["errors"]) == {"phone", "birthday"}
    assert rows[7]["errors"] == {"name": "is required for a new member"}
    assert rows[8]["action"] == "unchanged" and rows[8]["target_id"] == chen
    assert batch.counts == {"change": 1, "add": 1, "conflict": 2, "error": 2, "unchanged": 1}
    db.rollback()
    assert (count(db, Member), count(db, LedgerEntry)) == (members_before, entries_before)
    assert db.scalar(select(Member.name).where(Member.id == li)) == "Li Wei"
    payload = db.scalar(text("SELECT payload FROM import_rows WHERE batch_id = :batch AND row_no = 3"),
                        {"batch": batch.id})
    assert "13800000002" not in payload and "Wang" not in payload  # the previewed values are encrypted at rest
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "bulk.import_preview")).one()
    assert audit.after["rows"] == 7 and "13800000002" not in json.dumps(audit.after)


def test_a_conflict_is_resolved_then_confirm_applies_exactly_the_preview(db, seed, li):
    content = csv_file([
        {"member_id": str(li), "name": "Li Wei Jr"},
        {"name": "Zhang San", "phone": "13800000003"},
        {"name": "Zhang San Two", "phone": "13800000003"},
        {"name": "Wang Fang", "email": "wang@example.com", "id_number": "11010519491231002x"},
    ], ["member_id", "name", "phone", "email", "id_number"])
    batch, _ = preview(db, "members", content)
    with pytest.raises(Conflict) as refused:
        services.confirm(db, batch.id, actor=ACTOR)
    assert "conflicts" in refused.value.fields
    db.rollback()
    with pytest.raises(Exception) as wrong:
        services.resolve(db, batch.id, 3, "target:99", actor=ACTOR)
    assert "resolution" in wrong.value.fields
    db.rollback()
    services.resolve(db, batch.id, 4, "apply", actor=ACTOR)
    db.commit()
    assert rows_of(db, batch)[3]["resolution"] == "skip"
    confirm_and_apply(db, batch, chunk=2)
    assert batch.status == "applied" and batch.applied_rows == 3
    names = dict(db.execute(select(Member.name, Member.phone)).all())
    assert "Zhang San Two" in names and "Zhang San" not in names and names["Zhang San Two"] == "+8613800000003"
    assert db.scalar(select(Member.name).where(Member.id == li)) == "Li Wei Jr"
    wang = db.scalar(select(Member).where(Member.name == "Wang Fang"))
    assert (wang.status, wang.id_number, wang.channel) == ("active", "11010519491231002X", "web")
    assert db.scalar(select(Member.id).where(Member.id_number_index == "11010519491231002X")) == wang.id
    assert db.scalar(select(Account.balance).where(Account.member_id == wang.id, Account.kind == POINTS)) == 0
    assert db.scalar(select(Member.id).where(Member.phone_index == "138 0000 0003")) is not None

    again, recognised = preview(db, "members", content)
    assert recognised and again.id == batch.id and again.status == "applied"
    rewritten = content.replace(b"\r\n", b"\n")  # another file, the same rows: nothing left to change
    other, recognised = preview(db, "members", rewritten)
    assert not recognised and other.id != batch.id
    rows = rows_of(db, other)
    assert rows[2]["action"] == "unchanged" and rows[5]["action"] == "unchanged"
    assert rows[3]["action"] == rows[4]["action"] == "conflict"  # still two rows for one phone in the file
    services.skip_conflicts(db, other.id, actor=ACTOR)
    members_before = count(db, Member)
    confirm_and_apply(db, other)
    assert other.status == "applied" and other.applied_rows == 0 and count(db, Member) == members_before


def test_a_stale_preview_is_refused_and_a_new_preview_sees_the_change(db, seed, li):
    content = csv_file([{"member_id": str(li), "name": "Li Wei Jr"}, {"name": "Chen Jing", "phone": "13800000009"}],
                       ["member_id", "name", "phone"])
    batch, _ = preview(db, "members", content)
    db.execute(update(Member).where(Member.id == li).values(email="changed@example.com"))
    member(db, "Chen Jing", "13800000009")
    members_before = count(db, Member)
    services.confirm(db, batch.id, actor=ACTOR)
    db.commit()
    assert batch.status == "stale"
    assert "row 2: member" in batch.stale_reason and "row 3:" in batch.stale_reason
    assert db.scalar(select(Member.name).where(Member.id == li)) == "Li Wei"
    assert count(db, Member) == members_before
    again, recognised = preview(db, "members", content)
    assert not recognised and again.id == batch.id and again.status == "previewed"
    rows = rows_of(db, again)
    assert rows[2]["action"] == "change" and rows[3]["action"] == "unchanged"
    confirm_and_apply(db, again)
    assert again.status == "applied" and db.scalar(select(Member.name).where(Member.id == li)) == "Li Wei Jr"


def test_a_record_changed_between_chunks_stops_the_batch_as_stale(db, seed, li):
    wang = member(db, "Wang Fang", "13800000002")
    content = csv_file([{"member_id": str(li), "name": "Li Two"}, {"member_id": str(wang), "name": "Wang Two"}])
    batch, _ = preview(db, "members", content)
    services.confirm(db, batch.id, actor=ACTOR)
    db.commit()
    services.apply_next_chunk(db, batch.id, chunk=1)
    db.commit()
    db.execute(update(Member).where(Member.id == wang).values(name="Wang Edited"))
    db.commit()
    services.apply_next_chunk(db, batch.id, chunk=1)
    db.commit()
    assert batch.status == "stale" and batch.applied_rows == 1 and "row 3" in batch.stale_reason
    assert db.scalar(select(Member.name).where(Member.id == wang)) == "Wang Edited"


def test_ambiguous_phone_choose_which_record_wins(db, seed):
    first = member(db, "Twin A", "13800000005")
    second = enrol_member(db, Enrolment(name="Twin B", channel="desk", phone="13800000005"), force_duplicate_phone=True)
    approve_member(db, second)
    db.commit()
    batch, _ = preview(db, "members", csv_file([{"name": "Twin B Changed", "phone": "13800000005"}]))
    row = rows_of(db, batch)[2]
    assert row["action"] == "conflict" and row["conflict"]["kind"] == "ambiguous"
    assert row["conflict"]["options"] == ["skip", f"target:{first}", f"target:{second}"]
    assert row["candidates"][str(second)]["diff"] == {"name": ["Twin B", "Twin B Changed"]}
    services.resolve(db, batch.id, 2, f"target:{second}", actor=ACTOR)
    db.commit()
    confirm_and_apply(db, batch)
    assert db.scalar(select(Member.name).where(Member.id == second)) == "Twin B Changed"
    assert db.scalar(select(Member.name).where(Member.id == first)) == "Twin A"


def test_a_phone_another_member_holds_is_a_conflict_the_file_may_win(db, seed, li):
    wang = member(db, "Wang Fang", "13800000002")
    batch, _ = preview(db, "members", csv_file([{"member_id": str(wang), "phone": "13800000001"}]))
    row = rows_of(db, batch)[2]
    assert row["conflict"]["kind"] == "phone_taken" and str(li) in row["conflict"]["message"]
    assert row["diff"] == {"phone": ["+8613800000002", "+8613800000001"]}
    services.resolve(db, batch.id, 2, "apply", actor=ACTOR)
    db.commit()
    confirm_and_apply(db, batch)
    assert db.scalar(select(Member.phone).where(Member.id == wang)) == "+8613800000001"


@pytest.mark.parametrize("content, name, options, message", [
    (b"nom,telephone\nLi,138\n", "m.csv", {}, "has the unknown column nom, telephone"),
    ("name,phone\n李伟,13800000001\n".encode("gb18030"), "m.csv", {}, "is not UTF-8 text"),
    (b"", "m.csv", {}, "is empty"),
    (b"PK\x03\x04junk", "m.csv", {}, "is XLSX, not CSV"),
    (b"name,phone\nLi,1\n", "m.xlsx", {}, "is CSV, not XLSX"),
    (b"PK\x03\x04junk", "m.xlsx", {}, "is not a readable XLSX workbook"),
    (b'{"rows": 3}', "m.json", {}, "must be a JSON list of objects"),
    (b"name,name\nLi,Li\n", "m.csv", {}, "names the column name twice"),
])
def test_a_bad_file_is_refused_naming_the_file(db, seed, content, name, options, message):
    with pytest.raises(ValidationFailed) as refused:
        services.preview_import(db, kind="members", content=content, file_name=name, actor=ACTOR, **options)
    assert message in refused.value.fields["file"]
    db.rollback()
    assert count(db, ImportBatch) == 0


def test_gb18030_csv_xlsx_and_json_files_are_read_alike(db, seed):
    rows = [("李伟", "+8613800000001", "1990-05-17")]
    columns = ("name", "phone", "birthday")
    gbk = "name,phone,birthday\n李伟,13800000001,1990-05-17\n".encode("gb18030")
    batch, _ = preview(db, "members", gbk, encoding="gb18030")
    assert rows_of(db, batch)[2]["values"] == {"name": "李伟", "phone": "+8613800000001", "birthday": "1990-05-17"}
    for fmt in ("xlsx", "json", "csv"):
        content = write_table("members", columns, rows, fmt, exported_at="now")
        batch, _ = preview(db, "members", content, name=f"members.{fmt}")
        assert batch.file_format == fmt
        [row] = rows_of(db, batch).values()
        assert row["values"]["phone"] == "+8613800000001", fmt


def test_card_numbers_are_pooled_or_issued_and_an_issued_number_is_a_conflict(db, seed, li):
    wang = member(db, "Wang Fang", "13800000002")
    held = db.scalar(select(Card.card_no).where(Card.member_id == li))
    pooled, spare = generate_pool(db, 2)
    db.commit()
    fresh = with_check_digit("880000000009000")
    content = csv_file([
        {"card_no": fresh},
        {"card_no": with_check_digit("770000000000001"), "member_id": str(wang)},
        {"card_no": held, "member_id": str(wang)},
        {"card_no": pooled, "member_id": str(wang)},
        {"card_no": fresh[:-1] + str((int(fresh[-1]) + 1) % 10)},
        {"card_no": with_check_digit("770000000000002"), "card_type": "nope"},
        {"card_no": spare},
    ], ["card_no", "card_type", "member_id"])
    batch, _ = preview(db, "cards", content)
    rows = rows_of(db, batch)
    assert [rows[number]["action"] for number in range(2, 9)] == [
        "add", "add", "conflict", "change", "error", "error", "unchanged"]
    assert rows[4]["conflict"]["kind"] == "card_issued" and rows[4]["conflict"]["options"] == ["skip"]
    assert rows[5]["diff"] == {"member_id": [None, wang], "status": ["unissued", "active"]}
    assert "check digit" in rows[6]["errors"]["card_no"] and rows[7]["errors"] == {"card_type": "no such card type"}
    assert count(db, Card) == 4
    services.skip_conflicts(db, batch.id, actor=ACTOR)
    db.commit()
    confirm_and_apply(db, batch)
    cards = {card.card_no: card for card in db.scalars(select(Card))}
    assert cards[fresh].status == "unissued" and cards[fresh].member_id is None
    assert cards[with_check_digit("770000000000001")].member_id == wang
    assert cards[pooled].status == "active" and cards[pooled].member_id == wang
    assert cards[held].member_id == li
    assert db.scalar(select(CardNumberCounter.next_serial).where(CardNumberCounter.prefix == "8800")) == 9001
    assert generate_pool(db, 1)[0] == with_check_digit("880000000009001")


def test_points_adjustments_post_through_the_ledger_once(db, seed, li):
    programme = Programme.from_settings({})
    card_no = db.scalar(select(Card.card_no).where(Card.member_id == li))
    content = csv_file([
        {"member_id": str(li), "points": "500", "reason": "Website migration", "reference": "MIG-1"},
        {"card_no": card_no, "points": "-120", "reason": "Correction"},
        {"member_id": str(li), "points": "-1000", "reason": "Too much"},
        {"member_id": str(li), "points": "0", "reason": "Nothing"},
        {"member_id": "999999", "points": "5", "reason": "Unknown"},
    ], ["member_id", "card_no", "points", "reason", "reference"])
    batch, _ = preview(db, "points", content)
    rows = rows_of(db, batch)
    assert [rows[number]["action"] for number in range(2, 7)] == ["add", "add", "error", "error", "error"]
    assert rows[2]["diff"] == {"points_balance": [0, 500]} and rows[3]["diff"] == {"points_balance": [500, 380]}
    assert rows[4]["errors"] == {"points": "only 380 points available"}
    assert rows[5]["errors"] == {"points": "must not be 0"} and rows[6]["errors"] == {"member_id": "no such member"}
    assert count(db, LedgerEntry) == 0
    confirm_and_apply(db, batch, programme)
    account = db.scalar(select(Account).where(Account.member_id == li, Account.kind == POINTS))
    assert account.balance == 380
    entries = db.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account.id).order_by(LedgerEntry.id)).all()
    assert [(entry.amount, entry.note, entry.business_key) for entry in entries] == [
        (500, "Website migration", f"adjust:{li}:bulk:MIG-1"),
        (-120, "Correction", f"adjust:{li}:bulk:{batch.content_hash[:16]}:3")]
    assert find_drift(db) == []

    again, recognised = preview(db, "points", content)
    assert recognised and again.id == batch.id
    by_reference = csv_file([{"member_id": str(li), "points": "500", "reason": "Website migration",
                              "reference": "MIG-1"}])
    other, _ = preview(db, "points", by_reference)
    assert rows_of(db, other)[2]["action"] == "unchanged"
    changed = csv_file([{"member_id": str(li), "points": "600", "reason": "Website migration", "reference": "MIG-1"}])
    clash, _ = preview(db, "points", changed)
    assert rows_of(db, clash)[2]["conflict"]["kind"] == "posted"
    confirm_and_apply(db, other, programme)
    assert db.scalar(select(Account.balance).where(Account.id == account.id)) == 380
    assert count(db, LedgerEntry) == 2 and find_drift(db) == []


def test_a_points_debit_refused_at_apply_stops_the_batch_and_writes_nothing_of_its_chunk(db, seed, li):
    programme = Programme.from_settings({})
    seed_credit = csv_file([{"member_id": str(li), "points": "100", "reason": "Start"}])
    confirm_and_apply(db, preview(db, "points", seed_credit)[0], programme)
    content = csv_file([{"member_id": str(li), "points": "10", "reason": "More"},
                        {"member_id": str(li), "points": "-100", "reason": "Take"}])
    batch, _ = preview(db, "points", content)
    spend = csv_file([{"member_id": str(li), "points": "-50", "reason": "Spent meanwhile"}])
    confirm_and_apply(db, preview(db, "points", spend)[0], programme)
    confirm_and_apply(db, batch, programme)
    assert batch.status == "stale" and "row 3: balance 60 is less than 100" in batch.stale_reason
    assert db.scalar(select(Account.balance).where(Account.member_id == li)) == 50
    assert find_drift(db) == []


def exported(content, fmt) -> list[dict]:
    if fmt == "json":
        return json.loads(content)["rows"]
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(content)).worksheets[0]
        lines = list(sheet.iter_rows(values_only=True))
        return [dict(zip(lines[0], line)) for line in lines[1:]]
    return [cells for _, cells in read_table(content, "export.csv").rows]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_exports_decrypt_personal_data_only_when_allowed_and_are_audited(db, seed, li, fmt):
    programme = Programme.from_settings({})
    confirm_and_apply(db, preview(db, "points", csv_file([{"member_id": str(li), "points": "70", "reason": "x"}]))[0],
                      programme)
    content, name, count_ = export(db, "members", fmt, actor=ACTOR, personal=True, tz=programme.timezone)
    [row] = exported(content, fmt)
    assert name.endswith(f".{fmt}") and count_ == 1
    assert row["phone"] == "+8613800000001" and row["name"] == "Li Wei" and str(row["points_balance"]) == "70"
    content, _, _ = export(db, "members", fmt, actor=ACTOR, personal=False, tz=programme.timezone)
    [row] = exported(content, fmt)
    assert "phone" not in row and "id_number" not in row and row["email"] == "li@example.com"
    content, _, _ = export(db, "cards", fmt, actor=ACTOR, personal=False, tz=programme.timezone)
    assert exported(content, fmt)[0]["status"] == "active"
    content, _, _ = export(db, "balances", fmt, actor=ACTOR, personal=False, tz=programme.timezone)
    assert str(exported(content, fmt)[0]["points_balance"]) == "70"
    audits = db.scalars(select(AuditEntry).where(AuditEntry.action == "bulk.export").order_by(AuditEntry.id)).all()
    assert [(entry.after["kind"], entry.after["rows"], entry.after["personal_data"]) for entry in audits] == [
        ("members", 1, True), ("members", 1, False), ("cards", 1, False), ("balances", 1, False)]
    assert all("13800000001" not in json.dumps(entry.after) for entry in audits)


def test_an_export_of_what_changed_since_a_day(db, seed, li):
    from datetime import date, datetime, timedelta, timezone

    old = member(db, "Old Member", "13800000007")
    long_ago = datetime.now(timezone.utc) - timedelta(days=30)
    db.execute(update(Member).where(Member.id.in_([li, old]))
               .values(created_at=long_ago, approved_at=long_ago, tier_since=long_ago, updated_at=long_ago))
    db.commit()
    since = date.today() - timedelta(days=1)
    content, _, rows = export(db, "members", "json", actor=ACTOR, personal=False, changed_since=since,
                              tz=timezone.utc)
    assert rows == 0
    confirm_and_apply(db, preview(db, "members", csv_file([{"member_id": str(old), "name": "Old Renamed"}]))[0])
    content, _, rows = export(db, "members", "json", actor=ACTOR, personal=False, changed_since=since,
                              tz=timezone.utc)
    assert [row["name"] for row in json.loads(content)["rows"]] == ["Old Renamed"]


def test_an_exported_file_imports_again_as_unchanged(db, seed, li):
    member(db, "Wang Fang", "13800000002")
    for fmt in ("csv", "xlsx", "json"):
        content, name, _ = export(db, "members", fmt, actor=ACTOR, personal=True, tz=None)
        batch, _ = preview(db, "members", content, name=name)
        assert batch.counts == {"unchanged": 2}, fmt
        content, name, _ = export(db, "cards", fmt, actor=ACTOR, personal=True, tz=None)
        batch, _ = preview(db, "cards", content, name=name)
        assert batch.counts == {"unchanged": 2}, fmt


def test_an_xlsx_export_keeps_formulas_and_control_characters_out(db, seed):
    member_id = member(db, "=HYPERLINK(\"http://evil\")\x07", "13800000008")
    content, _, _ = export(db, "members", "xlsx", actor=ACTOR, personal=True, tz=None)
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cell = next(sheet.iter_rows(min_row=2, max_col=2, values_only=False))[1]
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"http://evil\")"
    csv_content, _, _ = export(db, "members", "csv", actor=ACTOR, personal=True, tz=None)
    assert b"'=HYPERLINK" in csv_content and b"'+8613800000008" in csv_content
    [row] = [cells for _, cells in read_table(csv_content, "m.csv").rows]
    assert row["name"].startswith("=HYPERLINK") and row["member_id"] == str(member_id)


def test_the_same_file_previewed_twice_at_once_is_one_batch(db, seed, engine):
    import threading

    from sqlalchemy.orm import Session

    content = csv_file([{"name": "Li", "phone": "13800000001"}])
    first = Session(engine)
    batch_id = services.preview_import(first, kind="members", content=content, file_name="m.csv", actor=ACTOR)[0].id
    outcome = {}

    def second_preview():
        with Session(engine) as second:
            try:
                outcome["batch"] = services.preview_import(second, kind="members", content=content,
                                                           file_name="m.csv", actor=ACTOR)[0].id
                second.commit()
            except Conflict as exc:
                outcome["conflict"] = exc.fields
                second.rollback()

    thread = threading.Thread(target=second_preview)
    thread.start()
    thread.join(1)  # it waits for the first transaction (the unique index, or SQLite's write lock)
    first.commit()
    first.close()
    thread.join(30)
    assert outcome in ({"batch": batch_id}, {"conflict": {"file": "is being previewed right now"}})
    db.rollback()
    assert count(db, ImportBatch) == 1
