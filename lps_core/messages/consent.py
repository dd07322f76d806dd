"""Members' consent to marketing messages, per channel: the one service the portal, the staff
screens, the unsubscribe link and the SMS STOP command read and write.

Consent is opt-in: a member without a row for a channel has not agreed, and receives no marketing
message through it. Service messages (a one-time code, an appeal's result, an approval) need no
consent. Every change records where it came from (`source`: staff, portal, sms, unsubscribe)."""
from datetime import datetime

from sqlalchemy import select

from lps_core.errors import Unprocessable
from lps_core.messages.models import MessageConsent
from lps_core.timeutil import utcnow

SOURCES = ("staff", "portal", "sms", "unsubscribe", "import")


def consents_of(db, member_id) -> dict[str, bool]:
    """{channel: granted} for the channels the member has answered for."""
    return {row.channel: row.granted for row in db.scalars(
        select(MessageConsent).where(MessageConsent.member_id == member_id))}


def has_consent(db, member_id, channel) -> bool:
    return bool(db.scalar(select(MessageConsent.granted).where(MessageConsent.member_id == member_id,
                                                               MessageConsent.channel == channel)))


def set_consent(db, member_id, channel, granted: bool, *, source, now: datetime | None = None) -> bool | None:
    """Record the member's answer for the channel; returns the answer before (None: never asked),
    for the audit log. Withdrawing consent also cancels the member's marketing messages still
    queued on that channel."""
    if source not in SOURCES:
        raise Unprocessable(f"no consent source {source!r}", {"source": f"must be one of {', '.join(SOURCES)}"})
    if not isinstance(granted, bool):
        raise Unprocessable("consent is true or false", {"granted": "must be true or false"})
    row = db.get(MessageConsent, (member_id, channel))
    before = None if row is None else row.granted
    now = now or utcnow()
    if row is None:
        db.add(MessageConsent(member_id=member_id, channel=channel, granted=granted, source=source, changed_at=now))
    elif row.granted != granted:
        row.granted, row.source, row.changed_at = granted, source, now
    db.flush()
    if not granted:
        from lps_core.messages.outbox import cancel_marketing

        cancel_marketing(db, member_id, channel, reason=f"consent withdrawn ({source})")
    return before
