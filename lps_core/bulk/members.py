"""Importing members: each row is matched with the member it names (by number, else by phone
number, else by e-mail address), compared field by field, and applied set-based: new members and
their points accounts with COPY on PostgreSQL (one executemany INSERT on SQLite), changes with one
executemany UPDATE.

Personal data is compared without decrypting it where a blind index allows: a phone number or ID
number by its index, and only a field that differs is decrypted, for the diff. A member's state
(the basis a stale preview is told by) is hashed over the ciphertext, and a change writes back the
ciphertext of the personal fields it does not touch. So 100,000 unchanged members cost no
decryption but their addresses'.

A new member from an import is active at the entry tier with a points account, as if approved:
confirming the preview is the approval. No card is issued (import the card numbers with their
member, or issue one at the desk) and no welcome message is sent."""
from datetime import date

from sqlalchemy import String, Text, bindparam, func, insert, select, type_coerce, update

from lps_core.bulk.models import ADD, APPLY, CHANGE, SKIP, TARGET, UNCHANGED
from lps_core.bulk.rows import (
    Previewed,
    basis_of,
    checked,
    chunks,
    error_row,
    insert_rows,
    jsonable,
    mark_duplicates,
    reserve_ids,
)
from lps_core.bulk.schemas import MemberRow
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member, Tier
from lps_core.members.services import HOLDS_PHONE, phone_problem
from lps_core.pii import keys_of, phone_e164

NOUN = "member"
FIELDS = ("name", "phone", "email", "birthday", "gender", "id_number", "address")
PLAIN = ("name", "email", "birthday", "gender")
MEMBERS = Member.__table__
PHONE_INDEX = type_coerce(MEMBERS.c.phone_index, String)  # compared with hashes made here
# The stored state as it is in the database: ciphertext and blind indexes, read without decrypting.
RAW = (MEMBERS.c.id, MEMBERS.c.name, MEMBERS.c.email, MEMBERS.c.birthday, MEMBERS.c.gender, MEMBERS.c.status,
       type_coerce(MEMBERS.c.phone, Text).label("phone"), PHONE_INDEX.label("phone_index"),
       type_coerce(MEMBERS.c.id_number, Text).label("id_number"),
       type_coerce(MEMBERS.c.id_number_index, String).label("id_number_index"),
       type_coerce(MEMBERS.c.address, Text).label("address"))
CLOSED = ("closed", "rejected")


def states(db, ids) -> dict:
    """{member id: its stored state: plain fields, status, personal data as ciphertext and blind
    indexes}, a chunk per query."""
    found = {}
    for chunk in chunks(sorted(set(ids))):
        for row in db.execute(select(*RAW).where(MEMBERS.c.id.in_(chunk))):
            state = row._asdict()
            state["birthday"] = state["birthday"].isoformat() if state["birthday"] else None
            found[state.pop("id")] = state
    return found


def holders_of_phones(db, hashes) -> dict:
    """{blind index of a phone: [ids of the members holding it]}."""
    found = {}
    for chunk in chunks(sorted(set(hashes))):
        for member_id, index in db.execute(select(MEMBERS.c.id, PHONE_INDEX).where(
                PHONE_INDEX.in_(chunk), MEMBERS.c.status.in_(HOLDS_PHONE)).order_by(MEMBERS.c.id)):
            found.setdefault(index, []).append(member_id)
    return found


def holders_of_emails(db, emails) -> dict:
    found = {}
    for chunk in chunks(sorted(set(emails))):
        for member_id, email in db.execute(select(MEMBERS.c.id, func.lower(MEMBERS.c.email)).where(
                func.lower(MEMBERS.c.email).in_(chunk), MEMBERS.c.status.in_(HOLDS_PHONE))
                .order_by(MEMBERS.c.id)):
            found.setdefault(email, []).append(member_id)
    return found


def diff_of(keys, state, values, phone_hash) -> dict:
    """{field: [old, new]} of the row's fields that differ from the stored state; a personal field
    is decrypted only when its blind index (or, for the address, its value) differs."""
    diff = {name: [state[name], values[name]] for name in PLAIN if name in values and state[name] != values[name]}
    old = {name: keys.decrypt(state[name]) if state[name] else None for name in ("phone", "id_number", "address")
           if name in values and _differs(keys, state, name, values[name], phone_hash)}
    diff.update({name: [old[name], values[name]] for name in ("phone", "id_number", "address")
                 if name in old and old[name] != values[name]})
    return diff


def _differs(keys, state, name, new, phone_hash) -> bool:
    if name == "phone":
        return state["phone_index"] != phone_hash
    if name == "id_number":
        return state["id_number_index"] != keys.index("id_number", new)
    return True  # an address has no index: compared in clear


def preview(db, rows, context) -> list[Previewed]:
    keys = keys_of(db.get_bind().dialect)
    parsed, previewed = [], []
    for row_no, raw in rows:
        model, errors = checked(MemberRow, raw)
        values = {}
        if errors and raw.get("phone") and "phone" not in errors \
                and phone_e164(raw["phone"], keys.phone_region) is None:
            errors = {**errors, "phone": phone_problem(keys.phone_region)}  # every bad field at once
        if model is not None:
            values = {name: getattr(model, name) for name in FIELDS if getattr(model, name) is not None}
            if "phone" in values:
                e164 = phone_e164(values["phone"], keys.phone_region)
                if e164 is None:
                    errors = {"phone": phone_problem(keys.phone_region)}
                values["phone"] = e164
        if errors:
            previewed.append(error_row(row_no, raw, errors))
            continue
        values = jsonable(values)
        phone_hash = keys.index("phone", values["phone"]) if "phone" in values else None
        parsed.append((row_no, raw, model.member_id, values, phone_hash))
    by_phone = holders_of_phones(db, [hash_ for *_, hash_ in parsed if hash_])
    by_email = holders_of_emails(db, [values["email"].lower() for _, _, _, values, _ in parsed if "email" in values])
    targets = {member_id for _, _, member_id, _, _ in parsed if member_id}
    targets |= {member_id for ids in [*by_phone.values(), *by_email.values()] for member_id in ids}
    known = states(db, targets)
    for row_no, raw, member_id, values, phone_hash in parsed:
        row = _classify(keys, row_no, raw, member_id, values, phone_hash, by_phone, by_email, known)
        if row.action != "error":
            row.blind_index = phone_hash
        previewed.append(row)
    mark_duplicates(previewed, NOUN)
    return sorted(previewed, key=lambda row: row.row_no)


def _classify(keys, row_no, raw, member_id, values, phone_hash, by_phone, by_email, known) -> Previewed:
    payload = {"raw": raw, "values": values}
    phone_holders = by_phone.get(phone_hash, []) if phone_hash else []
    if member_id is not None:
        state = known.get(member_id)
        if state is None:
            return error_row(row_no, raw, {"member_id": "no such member"})
        if state["status"] in CLOSED:
            return error_row(row_no, raw, {"member_id": f"the member is {state['status']}"})
        row = _compared(keys, row_no, payload, member_id, state, values, phone_hash)
        others = [holder for holder in phone_holders if holder != member_id]
        if others and "phone" in row.payload.get("diff", {}):
            row.conflict("phone_taken", f"the phone number belongs to member {', '.join(map(str, others))} too: "
                                        "apply to share it, or skip", [SKIP, APPLY])
        return row
    matches = phone_holders or (by_email.get(values["email"].lower(), []) if "email" in values else [])
    key = ("phone", values["phone"]) if "phone" in values else ("email", values.get("email", "").lower())
    if len(matches) > 1:
        row = Previewed(row_no, CHANGE, payload=payload, key=key)
        row.payload["candidates"] = {str(candidate): {"diff": diff_of(keys, known[candidate], values, phone_hash),
                                                      "basis": basis_of(known[candidate])} for candidate in matches}
        by = "phone number" if phone_holders else "e-mail address"
        row.conflict("ambiguous", f"members {', '.join(map(str, matches))} have this {by}: choose the one "
                                  "the row changes, or skip", [SKIP, *(f"{TARGET}{candidate}" for candidate in matches)])
        return row
    if matches:
        return _compared(keys, row_no, payload, matches[0], known[matches[0]], values, phone_hash)
    errors = {}
    if "name" not in values:
        errors["name"] = "is required for a new member"
    if "phone" not in values and "email" not in values:
        errors["phone"] = "give a phone number or an e-mail address"
    if errors:
        return error_row(row_no, raw, errors)
    return Previewed(row_no, ADD, payload=payload, key=key)


def _compared(keys, row_no, payload, member_id, state, values, phone_hash) -> Previewed:
    diff = diff_of(keys, state, values, phone_hash)
    payload["diff"] = diff
    return Previewed(row_no, CHANGE if diff else UNCHANGED, target_id=member_id, basis=basis_of(state),
                     payload=payload, key=("member", member_id))


def stale(db, rows, context) -> dict:
    """{row number: why} for the rows whose member changed since the preview, or whose new member
    has since been enrolled by someone else (the phone number or e-mail address now matches)."""
    found = {}
    changes = [row for row in rows if row.action == CHANGE]
    current = states(db, [row.target_id for row in changes])
    for row in changes:
        if row.target_id not in current or basis_of(current[row.target_id]) != row.basis:
            found[row.row_no] = f"member {row.target_id} changed since the preview"
    adds = [row for row in rows if row.action == ADD]
    phones = {row.blind_index: row.row_no for row in adds if row.blind_index}
    for index in holders_of_phones(db, phones):
        found[phones[index]] = "a member with this phone number was enrolled since the preview"
    emails = {row.values["email"].lower(): row.row_no for row in adds
              if not row.blind_index and row.values.get("email")}
    for email in holders_of_emails(db, emails):
        found[emails[email]] = "a member with this e-mail address was enrolled since the preview"
    return found


# A change writes every field: the new value where the row gives one, the stored one elsewhere
# (personal fields as their ciphertext and index, untouched), so one statement serves every row.
UPDATE = update(MEMBERS).where(MEMBERS.c.id == bindparam("target")).values(
    {**{name: bindparam(f"new_{name}") for name in PLAIN},
     **{name: bindparam(f"new_{name}", type_=Text) for name in ("phone", "id_number", "address")},
     **{name: bindparam(f"new_{name}", type_=String) for name in ("phone_index", "id_number_index")}})


def apply(db, rows, context) -> int:
    keys = keys_of(db.get_bind().dialect)
    adds = [row for row in rows if row.action == ADD]
    changes = [row for row in rows if row.action == CHANGE]
    if adds:
        _add(db, adds, context)
    if changes:
        current = states(db, [row.target_id for row in changes])
        params = []
        for row in changes:
            state, values = current[row.target_id], row.values
            param = {"target": row.target_id, **{f"new_{name}": values.get(name, state[name]) for name in PLAIN},
                     **{f"new_{name}": state[name] for name in ("phone", "phone_index", "id_number",
                                                                "id_number_index", "address")}}
            param["new_birthday"] = _date(param["new_birthday"])
            for name in ("phone", "id_number", "address"):
                if name in values:
                    param[f"new_{name}"] = keys.encrypt(values[name])
            if "phone" in values:
                param["new_phone_index"] = row.blind_index or keys.index("phone", values["phone"])
            if "id_number" in values:
                param["new_id_number_index"] = keys.index("id_number", values["id_number"])
            params.append(param)
        db.execute(UPDATE, params)
    return len(adds) + len(changes)


def _add(db, adds, context):
    entry_tier = db.scalar(select(Tier.id).where(Tier.retired_at.is_(None)).order_by(Tier.rank).limit(1))
    now = context.now
    postgresql = db.get_bind().dialect.name == "postgresql"
    new = [{"name": row.values["name"], "phone": row.values.get("phone"),
            "phone_index": row.blind_index if postgresql else row.values.get("phone"),
            "email": row.values.get("email"), "birthday": _date(row.values.get("birthday")),
            "gender": row.values.get("gender", "unspecified"), "id_number": row.values.get("id_number"),
            "id_number_index": row.values.get("id_number"), "address": row.values.get("address"),
            "channel": "web", "status": "active", "created_at": now, "approved_at": now, "tier_id": entry_tier,
            "tier_since": now} for row in adds]
    if postgresql:  # COPY with ids taken from the sequence first, the blind indexes made at preview
        ids = reserve_ids(db, MEMBERS, len(new))
        insert_rows(db, MEMBERS, [{"id": member_id, **values} for member_id, values in zip(ids, new)],
                    hashed=("phone_index",))
    else:
        ids = db.scalars(insert(MEMBERS).returning(MEMBERS.c.id, sort_by_parameter_order=True), new).all()
    insert_rows(db, Account.__table__, [{"kind": POINTS, "member_id": member_id, "balance": 0} for member_id in ids])


def _date(text):
    return date.fromisoformat(text) if text else None
