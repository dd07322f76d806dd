"""SMS commands: what a checked inbound message (lps_core.sms.inbound) asks, done for the member
whose phone number it came from, and the answer queued to that number.

- The message is recorded first, by its nonce: a nonce seen before is a replay, refused with 409
  and nothing done.
- The number is read in E.164 (lps.phone.default_region for a number without its country code)
  and matched to a member by the phone blind index; an unknown number (or a closed member's) gets
  a neutral answer that says nothing about memberships, a number several members share an answer
  that sends them to the desk.
- The first word is the command, compared without case with the words of lps.sms.words.*; the
  language of that word is the language of the answer:
  balance (points, tier and the next points to expire), redeem <code> (reserve the reward for
  pick-up at lps.sms.outlet: the reservation number, or why not), help, stop (no more marketing
  by SMS, through the consent service). Anything else is answered with the help.
- A reservation is answered by the message every reservation for pick-up queues (the event
  redemption_ready, with its number, in the member's language); the other answers are queued here.
Everything happens in the webhook's transaction: the inbound row, the command's changes and the
queued answer are committed together or not at all."""
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from lps_core.cards.models import Card
from lps_core.errors import Conflict, InsufficientBalance, LpsError, NotFound
from lps_core.ledger.models import POINTS, Account, PointLot
from lps_core.members.models import Member, Tier
from lps_core.messages.consent import set_consent
from lps_core.outlets.models import Outlet
from lps_core.pii import phone_e164
from lps_core.rewards.models import Reward
from lps_core.rewards.services import RedeemRequest, points_ratio, redeem
from lps_core.settings import SMS_COMMANDS
from lps_core.sms.inbound import InboundSms
from lps_core.sms.models import SmsInbound
from lps_core.sms.replies import SMS_CHANNEL, queue_reply, text

MEMBER_STATUSES = ("active", "dormant", "suspended")  # a closed, pending or rejected member is unknown here
CJK = re.compile(r"[\u3400-\u9fff]")
UPCOMING_LOTS = 200


@dataclass(frozen=True)
class Command:
    name: str | None  # one of SMS_COMMANDS; None: not understood
    language: str
    argument: str = ""


@dataclass(frozen=True)
class Handled:
    inbound_id: int
    outcome: str
    member_id: int | None
    reply: str | None  # the answer queued as text (None: none, or redeem()'s redemption_ready message)
    redemption_no: str | None = None


def parse_command(message: str, words: dict) -> Command:
    """The command of a message: its first word (full-width letters and marks read as ASCII), or
    for a Chinese word, the word the message starts with ("兑换TEA" too); the rest is the argument.
    A message not understood is answered in Chinese when it holds Chinese characters, else in English."""
    normal = unicodedata.normalize("NFKC", message).strip()
    found = sorted(((word, command, language) for (command, language), listed in words.items() for word in listed),
                   key=lambda item: -len(item[0]))
    for word, command, language in found:
        if normal.upper().startswith(word.upper()):
            rest = normal[len(word):]
            if not rest or rest[0].isspace() or not word.isascii():
                return Command(command, language, rest.strip())
    return Command(None, "zh_CN" if CJK.search(normal) else "en")


def handle_inbound(db, settings, inbound: InboundSms, *, now: datetime) -> Handled:
    """Record, do and answer one inbound message; see the module docstring. `settings` are the typed
    settings. Raises Conflict (409, field nonce) for a replay."""
    sms = settings.sms
    inbound_id = _claim_nonce(db, inbound, now)
    command = parse_command(inbound.text, sms.words)
    phone = phone_e164(inbound.phone, settings.pii.phone_region)
    outlet = db.scalar(select(Outlet).where(Outlet.code == sms.outlet)) if sms.outlet else None
    members = db.scalars(select(Member.id).where(Member.phone_index == phone, Member.status.in_(MEMBER_STATUSES))
                         .order_by(Member.id).limit(2)).all() if phone else []
    member_id = members[0] if len(members) == 1 else None
    view = None
    if phone is None or not members:
        outcome, reply = "unknown_number", text(command.language, "unknown_number")
    elif len(members) > 1:
        outcome, reply = "several_members", text(command.language, "several_members")
    elif command.name == "balance":
        outcome, reply = "answered", balance_text(db, member_id, command.language, settings.timezone, now)
    elif command.name == "redeem":
        outcome, reply, view = _redeem(db, settings, member_id, command, outlet, inbound_id, now)
    elif command.name == "stop":
        set_consent(db, member_id, SMS_CHANNEL, False, source="sms", now=now)
        outcome, reply = "stopped", text(command.language, "stop")
    else:
        outcome, reply = ("answered" if command.name == "help" else "not_understood"), help_text(sms, command.language)
    db.execute(update(SmsInbound).where(SmsInbound.id == inbound_id).values(
        member_id=member_id, command=command.name, outcome=outcome,
        redemption_id=view.id if view else None))
    # A reservation is answered by the redemption_ready message redeem() queued, with its number.
    if reply is not None and phone is not None:
        queue_reply(db, phone=phone, body=reply, language=command.language, member_id=member_id,
                    outlet_id=outlet.id if outlet else None, inbound_id=inbound_id)
    return Handled(inbound_id, outcome, member_id, reply if phone is not None else None,
                   view.number if view else None)


def _claim_nonce(db, inbound: InboundSms, now) -> int:
    """The new sms_inbound row of the message, or Conflict when its nonce was received before."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    inbound_id = db.scalar(insert(SmsInbound).values(
        nonce=inbound.nonce, sent_at=inbound.sent_at, received_at=now, outcome="received",
    ).on_conflict_do_nothing(index_elements=["nonce"]).returning(SmsInbound.id))
    if inbound_id is None:
        raise Conflict("this message was received before (a replay)", {"nonce": "was received before"})
    return inbound_id


def balance_text(db, member_id, language, zone, now) -> str:
    """Points, tier and the points that expire next (those of the earliest day, in lps.timezone)."""
    tier = db.scalar(select(Tier.name).join(Member, Member.tier_id == Tier.id).where(Member.id == member_id))
    account = db.execute(select(Account.id, Account.balance).where(Account.member_id == member_id,
                                                                  Account.kind == POINTS)).first()
    expiry = text(language, "no_expiry")
    if account is not None:
        lots = db.execute(select(PointLot.expires_at, PointLot.remaining).where(
            PointLot.account_id == account.id, PointLot.remaining > 0, PointLot.expires_at > now)
            .order_by(PointLot.expires_at).limit(UPCOMING_LOTS)).all()
        if lots:
            day = lots[0].expires_at.astimezone(zone).date()
            points = sum(lot.remaining for lot in lots if lot.expires_at.astimezone(zone).date() == day)
            expiry = text(language, "expiry", points=f"{points:,}", date=day.isoformat())
    return text(language, "balance", points=f"{account.balance if account else 0:,}",
                tier=tier or text(language, "no_tier"), expiry=expiry)


def help_text(sms, language) -> str:
    first = {command: sms.words[(command, language)][0] for command in SMS_COMMANDS}
    return text(language, "help", **first)


def _redeem(db, settings, member_id, command, outlet, inbound_id, now):
    """(outcome, reply, RedemptionView or None): the reward reserved for pick-up, or why not. A refusal
    undoes whatever the attempt wrote (a savepoint), so the inbound row and the answer still commit."""
    language = command.language
    code_given = command.argument.split()[0] if command.argument else ""
    if not code_given:
        return "usage", text(language, "redeem_usage"), None
    if outlet is None:
        return "refused", text(language, "refused", code=code_given, reason=text(language, "no_outlet")), None
    code = db.scalar(select(Reward.code).where(func.upper(Reward.code) == code_given.upper())) or code_given
    card_no = db.scalar(select(Card.card_no).where(Card.member_id == member_id, Card.status == "active")
                        .order_by(Card.id.desc()).limit(1))
    try:
        if card_no is None:
            raise LpsError("the member has no active card", {"card_no": "no active card"})
        with db.begin_nested():
            view = redeem(db, outlet, RedeemRequest(card_no, code, 1, f"SMS-{inbound_id}", False),
                          points_ratio(settings), now, tz=settings.timezone)
    except LpsError as exc:
        return "refused", text(language, "refused", code=code, reason=_reason(exc, language)), None
    return "redeemed", None, view


def _reason(exc: LpsError, language) -> str:
    """Why a reservation was refused, in the member's words."""
    fields = exc.fields
    if isinstance(exc, NotFound) and "reward" in fields:
        return text(language, "no_such_reward")
    if isinstance(exc, InsufficientBalance):
        needed = re.search(r"needs (\d+)", fields.get("points", ""))
        return text(language, "insufficient_points", needed=f"{int(needed.group(1)):,}" if needed else "?")
    if isinstance(exc, Conflict) and "quantity" in fields:
        return text(language, "out_of_stock")
    if "reward" in fields:
        return text(language, "not_for_tier" if "tier" in fields["reward"] else "not_available")
    if "card_no" in fields:
        return text(language, "card_unusable")
    return text(language, "other")
