"""What a member was sent: the delivery log of every channel (the member page), and the portal
inbox, the messages delivered through the channel "inbox" (the outbox rows themselves), newest
first, with marking them read (the portal's inbox page)."""
from sqlalchemy import func, select, update

from lps_core.messages.models import SENT, OutboxMessage
from lps_core.timeutil import utcnow

INBOX = "inbox"


def delivery_log(db, member_id, *, limit=50) -> list[OutboxMessage]:
    """The member's latest messages on every channel, whatever became of them (the member page)."""
    return db.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member_id)
                      .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)).all()


def _mine(member_id):
    return (OutboxMessage.member_id == member_id, OutboxMessage.channel == INBOX, OutboxMessage.status == SENT)


def inbox_of(db, member_id, *, page=1, per_page=20) -> tuple[int, list[OutboxMessage]]:
    """(total, the page's messages): each has id, event, subject, body, sent_at and read_at."""
    total = db.scalar(select(func.count()).select_from(OutboxMessage).where(*_mine(member_id)))
    rows = db.scalars(select(OutboxMessage).where(*_mine(member_id))
                      .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
                      .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return total, rows


def unread_count(db, member_id) -> int:
    return db.scalar(select(func.count()).select_from(OutboxMessage).where(*_mine(member_id),
                                                                           OutboxMessage.read_at.is_(None)))


def mark_read(db, member_id, message_ids=None) -> int:
    """Mark the member's inbox messages read (those of `message_ids`, or all); returns how many."""
    conditions = [*_mine(member_id), OutboxMessage.read_at.is_(None)]
    if message_ids is not None:
        conditions.append(OutboxMessage.id.in_(list(message_ids)))
    return db.execute(update(OutboxMessage).where(*conditions).values(read_at=utcnow())).rowcount
