"""Importing card numbers made elsewhere (printed cards): a new number joins the pool of its card
type unissued, or is issued at once to the member the row names; a pooled number the row gives a
member is issued to them. A number issued to someone else, or of another card type, is a conflict
that can only be skipped: an import never takes a card from its holder.

Numbers that fit the card type's own numbering (its prefix, 16 digits) move the type's counter past
them, so `lps cards generate` and issuance never make a number the import brought in."""
from sqlalchemy import insert, select, update

from lps_core.bulk.models import ADD, CHANGE, SKIP, UNCHANGED
from lps_core.bulk.rows import Previewed, basis_of, checked, chunks, error_row, mark_duplicates
from lps_core.bulk.schemas import CardRow
from lps_core.cards.models import Card, CardNumberCounter, CardType
from lps_core.cards.services import CARD_NUMBER_LENGTH, issue_values, open_card_accounts
from lps_core.members.models import Member

NOUN = "card number"
ISSUABLE = ("active", "dormant", "suspended")


def _cards(db, numbers) -> dict:
    found = {}
    for chunk in chunks(sorted(set(numbers))):
        for row in db.execute(select(Card.id, Card.card_no, Card.card_type_id, Card.member_id, Card.status)
                              .where(Card.card_no.in_(chunk))):
            found[row.card_no] = row
    return found


def _card_state(card) -> dict:
    return {"card_type_id": card.card_type_id, "member_id": card.member_id, "status": card.status}


def _member_statuses(db, ids) -> dict:
    found = {}
    for chunk in chunks(sorted(set(ids))):
        found.update(db.execute(select(Member.id, Member.status).where(Member.id.in_(chunk))).all())
    return found


def preview(db, rows, context) -> list[Previewed]:
    types = {card_type.code: card_type for card_type in db.scalars(select(CardType).order_by(CardType.id))}
    default = next((card_type for card_type in types.values() if not card_type.anonymous and card_type.active), None)
    parsed, previewed = [], []
    for row_no, raw in rows:
        model, errors = checked(CardRow, raw)
        if model is not None:
            card_type = types.get(model.card_type) if model.card_type else default
            if card_type is None:
                errors = {"card_type": "no such card type" if model.card_type else "define a card type first"}
            elif not card_type.active:
                errors = {"card_type": "is no longer issued"}
            elif card_type.anonymous and model.member_id:
                errors = {"member_id": "an anonymous card type is not issued to a member"}
        if errors:
            previewed.append(error_row(row_no, raw, errors))
            continue
        parsed.append((row_no, raw, model, card_type))
    existing = _cards(db, [model.card_no for _, _, model, _ in parsed])
    members = _member_statuses(db, [model.member_id for _, _, model, _ in parsed if model.member_id])
    type_codes = {card_type.id: code for code, card_type in types.items()}
    for row_no, raw, model, card_type in parsed:
        values = {"card_no": model.card_no, "card_type": card_type.code, "member_id": model.member_id}
        payload = {"raw": raw, "values": values}
        if model.member_id and members.get(model.member_id) not in ISSUABLE:
            status = members.get(model.member_id)
            previewed.append(error_row(row_no, raw, {"member_id": f"the member is {status}" if status
                                                     else "no such member"}))
            continue
        card = existing.get(model.card_no)
        key = ("card", model.card_no)
        if card is None:
            previewed.append(Previewed(row_no, ADD, payload=payload, key=key))
            continue
        row = Previewed(row_no, UNCHANGED, target_id=card.id, basis=basis_of(_card_state(card)), payload=payload,
                        key=key)
        if card.card_type_id != card_type.id:
            row.conflict("card_type", f"the number is a {type_codes.get(card.card_type_id)} card already", [SKIP])
        elif model.member_id and card.member_id not in (None, model.member_id):
            row.conflict("card_issued", f"the number is issued to member {card.member_id} already", [SKIP])
        elif model.member_id and card.status == "unissued":
            row.action = CHANGE
            payload["diff"] = {"member_id": [None, model.member_id], "status": ["unissued", "active"]}
        elif model.member_id and card.member_id is None:
            row.conflict("card_issued", f"the number is {card.status} already", [SKIP])
        previewed.append(row)
    mark_duplicates(previewed, NOUN)
    return sorted(previewed, key=lambda row: row.row_no)


def stale(db, rows, context) -> dict:
    found = {}
    current = _cards(db, [row.values["card_no"] for row in rows])
    for row in rows:
        card = current.get(row.values["card_no"])
        if row.action == ADD and card is not None:
            found[row.row_no] = "the card number was added since the preview"
        elif row.action == CHANGE and (card is None or basis_of(_card_state(card)) != row.basis):
            found[row.row_no] = "the card changed since the preview"
    return found


def apply(db, rows, context) -> int:
    types = {card_type.code: card_type for card_type in db.scalars(select(CardType))}
    now = context.now
    adds = [row for row in rows if row.action == ADD]
    if adds:
        new = [{"card_no": row.values["card_no"], "card_type_id": types[row.values["card_type"]].id,
                "member_id": row.values["member_id"], "status": "unissued", "issued_at": None,
                "issued_outlet_id": None, "valid_from": None, "valid_to": None, "status_changed_at": None}
               for row in adds]
        for values, row in zip(new, adds):
            if row.values["member_id"]:
                values.update(issue_values(types[row.values["card_type"]], now))
        ids = db.scalars(insert(Card.__table__).returning(Card.__table__.c.id, sort_by_parameter_order=True),
                         new).all()
        for card_id, row in zip(ids, adds):
            if row.values["member_id"]:
                open_card_accounts(db, card_id, types[row.values["card_type"]], now)
        _move_counters(db, types, adds)
    for row in rows:
        if row.action == CHANGE:
            card_type = types[row.values["card_type"]]
            db.execute(update(Card).where(Card.id == row.target_id, Card.status == "unissued")
                       .values(member_id=row.values["member_id"], **issue_values(card_type, now)))
            open_card_accounts(db, row.target_id, card_type, now)
    return len(rows)


def _move_counters(db, types, adds):
    """Move each prefix's serial past the imported numbers that fit its numbering."""
    highest = {}
    for row in adds:
        prefix, number = types[row.values["card_type"]].prefix, row.values["card_no"]
        if len(number) == CARD_NUMBER_LENGTH and number.startswith(prefix):
            highest[prefix] = max(highest.get(prefix, 0), int(number[len(prefix):-1]))
    for prefix, serial in highest.items():
        current = db.scalar(select(CardNumberCounter.next_serial).where(CardNumberCounter.prefix == prefix)
                            .with_for_update())
        if current is None:
            db.execute(insert(CardNumberCounter).values(prefix=prefix, next_serial=serial + 1))
        elif current <= serial:
            db.execute(update(CardNumberCounter).where(CardNumberCounter.prefix == prefix)
                       .values(next_serial=serial + 1))
