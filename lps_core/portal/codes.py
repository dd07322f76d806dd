"""One-time codes sent by SMS or e-mail: for signing in, resetting a forgotten password and
claiming a card online.

A code is six digits, stored only as an argon2 hash, valid for CODE_MINUTES, used once, and dead
after MAX_CODE_ATTEMPTS wrong tries; asking for a new one retires the one before. A member gets at
most CODES_PER_MEMBER codes and an address may ask for CODES_PER_ADDRESS in the throttling window.
Whoever asks gets the same answer whether or not the card or phone names a member who can be
reached on that channel, so the form cannot be used to find out who is a member.

The code goes out through the message outbox (`sign_in_code`, a service message needing no
consent, whose body is cleared once sent), in the request's transaction."""
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from lps_core.members.models import Member
from lps_core.messages.outbox import enqueue
from lps_core.portal.credentials import (
    address_throttled,
    attempts_since,
    dummy_check,
    hash_secret,
    note_attempt,
    secret_matches,
)
from lps_core.portal.models import PortalCode
from lps_core.timeutil import as_utc, utcnow

CODE_DIGITS = 6
CODE_MINUTES = 10
MAX_CODE_ATTEMPTS = 5
CODES_PER_MEMBER = 3
CODES_PER_ADDRESS = 10
# The member's address for each channel.
CONTACT = {"sms": "phone", "email": "email"}


def send_code(db, member_id, purpose, channel, *, address=None, language=None, now=None) -> bool:
    """Queue a new code for the member (member_id None: nobody, which is answered the same way by
    the caller) unless throttled or the member cannot be reached on `channel`; whether one was
    queued. Either way the attempt counts against the address."""
    now = as_utc(now or utcnow())
    if address and attempts_since(db, "code_sent", now, address=address) >= CODES_PER_ADDRESS:
        return False
    note_attempt(db, address, member_id, "code_sent", now)
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    code_hash = hash_secret(code)  # the same argon2 work whether or not the code goes anywhere
    if member_id is None:
        return False
    if attempts_since(db, "code_sent", now, member_id=member_id) > CODES_PER_MEMBER:
        return False
    reachable = db.scalar(select(getattr(Member, CONTACT[channel])).where(Member.id == member_id))
    if not reachable:
        return False
    db.execute(update(PortalCode).where(PortalCode.member_id == member_id, PortalCode.purpose == purpose,
                                        PortalCode.used_at.is_(None)).values(used_at=now))
    db.add(PortalCode(member_id=member_id, purpose=purpose, channel=channel, code_hash=code_hash,
                      attempts=0, expires_at=now + timedelta(minutes=CODE_MINUTES), created_at=now))
    db.flush()
    enqueue(db, "sign_in_code", member_id=member_id, channels=[channel], language=language,
            context={"code": code, "minutes": CODE_MINUTES})
    return True


def use_code(db, member_id, purpose, code, *, address=None, now=None) -> bool:
    """Whether `code` is the member's live code for `purpose`; a right code is used up, a wrong one
    counts against the code, the member and the address. A throttled address is refused unchecked."""
    now = as_utc(now or utcnow())
    code = (code or "").strip().replace(" ", "")
    if address_throttled(db, address, now):
        return False
    live = db.scalar(select(PortalCode).where(
        PortalCode.member_id == member_id, PortalCode.purpose == purpose, PortalCode.used_at.is_(None),
        PortalCode.expires_at > now, PortalCode.attempts < MAX_CODE_ATTEMPTS,
    ).order_by(PortalCode.id.desc()).limit(1).with_for_update()) if member_id is not None else None
    if live is None or not code.isdigit() or len(code) != CODE_DIGITS:
        dummy_check(code)
        note_attempt(db, address, member_id, "code", now)
        return False
    if not secret_matches(live.code_hash, code):
        live.attempts += 1
        note_attempt(db, address, member_id, "code", now)
        db.flush()
        return False
    live.used_at = now
    db.flush()
    return True
