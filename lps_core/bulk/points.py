"""Importing points adjustments with their reason, each posted through the ledger like an
adjustment at the desk (lps_core.members.services.adjust_points): in the member's points lots,
with a business key, so a row posted once is never posted again.

The key is the row's `reference` when the file gives one (`adjust:<member>:bulk:<reference>`), or
else the file's content hash and row number: the same file imported again, or a later file naming
the same references, finds its rows posted already (unchanged in the preview)."""
from sqlalchemy import select

from lps_core.bulk.models import ADD, SKIP, UNCHANGED
from lps_core.bulk.rows import Previewed, basis_of, checked, chunks, error_row, mark_duplicates
from lps_core.bulk.schemas import PointsRow
from lps_core.cards.models import Card
from lps_core.errors import LpsError
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.ledger.services import fingerprint_of
from lps_core.members.models import Member
from lps_core.members.services import adjust_points

NOUN = "reference"
ADJUSTABLE = ("active", "dormant", "suspended")


def request_key(content_hash, row_no, reference) -> str:
    return f"bulk:{reference}" if reference else f"bulk:{content_hash[:16]}:{row_no}"


def business_key(member_id, key) -> str:
    return f"adjust:{member_id}:{key}"  # as adjust_points names it


def fingerprint(member_id, points, reason) -> str:
    return fingerprint_of({"member_id": member_id, "points": points, "reason": reason, "outlet_id": None})


def _members(db, ids) -> dict:
    """{member id: (status, points balance)}."""
    found = {}
    for chunk in chunks(sorted(set(ids))):
        for row in db.execute(select(Member.id, Member.status, Account.balance)
                              .outerjoin(Account, (Account.member_id == Member.id) & (Account.kind == POINTS))
                              .where(Member.id.in_(chunk))):
            found[row.id] = (row.status, row.balance or 0)
    return found


def _holders(db, numbers) -> dict:
    found = {}
    for chunk in chunks(sorted(set(numbers))):
        found.update(db.execute(select(Card.card_no, Card.member_id).where(Card.card_no.in_(chunk))).all())
    return found


def _posted(db, keys) -> dict:
    found = {}
    for chunk in chunks(sorted(set(keys))):
        found.update(db.execute(select(LedgerEntry.business_key, LedgerEntry.fingerprint)
                                .where(LedgerEntry.business_key.in_(chunk))).all())
    return found


def preview(db, rows, context) -> list[Previewed]:
    parsed, previewed = [], []
    for row_no, raw in rows:
        model, errors = checked(PointsRow, raw)
        if errors:
            previewed.append(error_row(row_no, raw, errors))
        else:
            parsed.append((row_no, raw, model))
    holders = _holders(db, [model.card_no for _, _, model in parsed if model.card_no])
    resolved = []
    for row_no, raw, model in parsed:
        member_id = model.member_id
        if model.card_no:
            holder = holders.get(model.card_no)
            if holder is None or (member_id and holder != member_id):
                field_problem = "no member holds this card" if holder is None else f"is member {holder}'s card"
                previewed.append(error_row(row_no, raw, {"card_no": field_problem}))
                continue
            member_id = holder
        resolved.append((row_no, raw, model, member_id))
    members = _members(db, [member_id for *_, member_id in resolved])
    keys = {row_no: business_key(member_id, request_key(context.content_hash, row_no, model.reference))
            for row_no, _, model, member_id in resolved}
    posted = _posted(db, keys.values())
    available = {member_id: balance for member_id, (_, balance) in members.items()}
    for row_no, raw, model, member_id in resolved:
        status = members.get(member_id, (None, 0))[0]
        if status not in ADJUSTABLE:
            previewed.append(error_row(row_no, raw, {"member_id": f"the member is {status}" if status
                                                     else "no such member"}))
            continue
        values = {"member_id": member_id, "points": model.points, "reason": model.reason,
                  "reference": model.reference, "business_key": keys[row_no]}
        payload = {"raw": raw, "values": values, "diff": {"points_balance": [available[member_id], None]}}
        basis = basis_of({"status": status})
        key = ("reference", member_id, model.reference) if model.reference else None
        done = posted.get(keys[row_no])
        if done == fingerprint(member_id, model.points, model.reason):
            previewed.append(Previewed(row_no, UNCHANGED, target_id=member_id, basis=basis, payload=payload, key=key))
            continue
        if model.points < 0 and available[member_id] + model.points < 0:
            previewed.append(error_row(row_no, raw, {"points": f"only {available[member_id]} points available"}))
            continue
        available[member_id] += model.points
        payload["diff"]["points_balance"][1] = available[member_id]
        row = Previewed(row_no, ADD, target_id=member_id, basis=basis, payload=payload, key=key)
        if done is not None:
            row.conflict("posted", "this reference was posted already with other points or another reason", [SKIP])
        previewed.append(row)
    mark_duplicates(previewed, NOUN)
    return sorted(previewed, key=lambda row: row.row_no)


def stale(db, rows, context) -> dict:
    found = {}
    members = _members(db, [row.values["member_id"] for row in rows])
    posted = _posted(db, [row.values["business_key"] for row in rows])
    for row in rows:
        member_id = row.values["member_id"]
        if basis_of({"status": members.get(member_id, (None, 0))[0]}) != row.basis:
            found[row.row_no] = f"member {member_id}'s status changed since the preview"
        elif posted.get(row.values["business_key"], None) not in (
                None, fingerprint(member_id, row.values["points"], row.values["reason"])):
            found[row.row_no] = "the reference was posted with other content since the preview"
    return found


def apply(db, rows, context) -> int:
    for row in rows:
        values = row.values
        try:
            adjust_points(db, context.programme, values["member_id"], values["points"], values["reason"],
                          request_key=values["business_key"].split(":", 2)[2], now=context.now)
        except LpsError as exc:
            raise exc.__class__(f"row {row.row_no}: {exc.message}", exc.fields) from None
    return len(rows)
