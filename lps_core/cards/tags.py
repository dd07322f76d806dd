"""RFID/NFC tags registered on cards: a tag reader gives a tag's id (contract.TagRead), not a card
number, and the card is found through the tag id registered on it (cards.tag_id, unique).

A tag id is kept as the reader's driver gives it, upper case: spaces, dashes and colons, as ids are
printed or shown by other tools ("04:A2:3B:..."), are dropped, so the id typed at the desk and the
id read at the till are the same string."""
import re

from sqlalchemy import select

from lps_core.audit.services import SYSTEM, record
from lps_core.cards.models import Card
from lps_core.cards.services import normalize_card_no
from lps_core.errors import Conflict, NotFound, ValidationFailed

TAG_ID = re.compile(r"[0-9A-Z]{4,32}")
SEPARATORS = re.compile(r"[\s:\-]")


def normalize_tag_id(raw, field="tag_id") -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed(f"{field} is required", {field: "is required"})
    tag_id = SEPARATORS.sub("", raw).upper()
    if not TAG_ID.fullmatch(tag_id):
        raise ValidationFailed(f"{field} must be 4 to 32 letters and digits, as the tag reader gives it",
                               {field: "must be 4 to 32 letters and digits"})
    return tag_id


def _card(db, raw_card_no) -> Card:
    card_no = normalize_card_no(raw_card_no)
    card = db.scalar(select(Card).where(Card.card_no == card_no))
    if card is None:
        raise NotFound(f"card {card_no} is not known", {"card_no": "no such card"})
    return card


def register_tag(db, raw_card_no, raw_tag_id, *, actor=SYSTEM) -> Card:
    """Register the tag on the card, in place of any tag it had, audited as `actor` did it. A tag is
    on one card at most: one registered on another card is a conflict naming that card (remove it
    there first)."""
    card = _card(db, raw_card_no)
    tag_id = normalize_tag_id(raw_tag_id)
    holder = db.scalar(select(Card.card_no).where(Card.tag_id == tag_id, Card.id != card.id))
    if holder is not None:
        raise Conflict(f"tag {tag_id} is registered on card {holder}", {"tag_id": f"registered on card {holder}"})
    before, card.tag_id = card.tag_id, tag_id
    db.flush()
    _audit(db, actor, card, before)
    return card


def remove_tag(db, raw_card_no, *, actor=SYSTEM) -> str | None:
    """Take the card's tag off it; the tag id it had, or None."""
    card = _card(db, raw_card_no)
    tag_id, card.tag_id = card.tag_id, None
    db.flush()
    if tag_id is not None:
        _audit(db, actor, card, tag_id)
    return tag_id


def _audit(db, actor, card, before):
    if before != card.tag_id:
        record(db, actor=actor, action="card.tag", target=("card", card.card_no), before={"tag_id": before},
               after={"tag_id": card.tag_id})
