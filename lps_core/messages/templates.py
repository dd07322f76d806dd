"""What a message says: a template per event, language and channel, with named placeholders.

Staff write plain text with placeholders such as {member_name}; it is never template code. A
placeholder is a name in braces from the event's list (EVENTS); anything else in braces is
refused when the template is saved. The values are put in as text: an HTML e-mail escapes both
the template and the values (`as_html`). The shipped defaults below apply until staff save their
own (MessageTemplate rows), which may be for one channel or for every channel ("*")."""
import re
from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy import select

from lps_core.errors import Unprocessable
from lps_core.messages.models import MessageTemplate

LANGUAGES = ("zh_CN", "en")
ANY_CHANNEL = "*"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
BRACES = re.compile(r"[{}]")
MAX_SUBJECT = 200
MAX_BODY = 4000


@dataclass(frozen=True)
class Event:
    """An event that tells a member something: its placeholders (member_name is always there),
    whether it is marketing (needs consent) and whether its values are secret (a one-time code:
    the body is cleared once sent and never shown in the delivery log)."""

    name: str
    label: str
    placeholders: tuple
    marketing: bool = False
    secret: bool = False
    sample: tuple = ()  # (placeholder, value) pairs for the preview


EVENTS = {event.name: event for event in (
    Event("enrolment_approved", "Enrolment approved", ("member_name", "card_no"),
          sample=(("card_no", "8800000000012"),)),
    Event("enrolment_rejected", "Enrolment rejected", ("member_name", "reason"),
          sample=(("reason", "The ID number could not be verified"),)),
    Event("points_earned", "Points earned", ("member_name", "points", "balance", "outlet", "bill_no"),
          sample=(("points", "1,200"), ("balance", "15,800"), ("outlet", "Garden Restaurant"),
                  ("bill_no", "R-1042"))),
    Event("points_expiring", "Points expiring", ("member_name", "points", "expires_on"),
          sample=(("points", "2,000"), ("expires_on", "2026-12-31"))),
    Event("tier_changed", "Tier changed", ("member_name", "old_tier", "new_tier"),
          sample=(("old_tier", "Silver"), ("new_tier", "Gold"))),
    Event("redemption_ready", "Redemption ready for pick-up", ("member_name", "reward", "redemption_no", "outlet"),
          sample=(("reward", "Afternoon tea for two"), ("redemption_no", "42"), ("outlet", "Lobby Lounge"))),
    Event("appeal_resolved", "Appeal resolved", ("member_name", "appeal_no", "outcome", "answer"),
          sample=(("appeal_no", "A-17"), ("outcome", "approved"), ("answer", "The bill has been posted."))),
    Event("birthday", "Birthday greeting", ("member_name", "bonus_points"), marketing=True,
          sample=(("bonus_points", "500"),)),
    Event("sign_in_code", "One-time sign-in code", ("member_name", "code", "minutes"), secret=True,
          sample=(("code", "482913"), ("minutes", "10"))),
    Event("membership_expiring", "Paid membership expiring", ("member_name", "membership", "card_no", "expires_on",
                                                              "fee"),
          sample=(("membership", "Gold Club"), ("card_no", "8800000000012"), ("expires_on", "2026-12-31"),
                  ("fee", "299.00"))),
    # A marketing campaign (lps_core.marketing): its own subject and text, written per campaign.
    Event("campaign", "Marketing campaign", ("member_name", "subject", "body"), marketing=True,
          sample=(("subject", "Autumn offers"), ("body", "Enjoy 20% off in our restaurants this week."))),
)}

# (event, language, channel) -> (subject, body); channel "*" serves every channel without its own.
DEFAULTS = {
    ("enrolment_approved", "en", "*"): (
        "Welcome to the programme",
        "Dear {member_name},\n\nyour membership has been approved. Your card number is {card_no}.\n"
        "We look forward to welcoming you."),
    ("enrolment_approved", "zh_CN", "*"): (
        "欢迎加入会员计划", "尊敬的{member_name}：\n\n您的会员申请已获批准，会员卡号为 {card_no}。期待您的光临。"),
    ("enrolment_approved", "en", "sms"): ("", "{member_name}, your membership is approved. Card no. {card_no}."),
    ("enrolment_approved", "zh_CN", "sms"): ("", "{member_name}，您的会员申请已获批准，卡号 {card_no}。"),
    ("enrolment_rejected", "en", "*"): (
        "Your membership application",
        "Dear {member_name},\n\nwe are sorry: your membership application was not approved.\nReason: {reason}"),
    ("enrolment_rejected", "zh_CN", "*"): (
        "您的会员申请", "尊敬的{member_name}：\n\n很抱歉，您的会员申请未获批准。\n原因：{reason}"),
    ("points_earned", "en", "*"): (
        "You earned {points} points",
        "Dear {member_name},\n\nyou earned {points} points at {outlet} (bill {bill_no}). "
        "Your balance is {balance} points."),
    ("points_earned", "zh_CN", "*"): (
        "您获得了 {points} 积分", "尊敬的{member_name}：\n\n您在{outlet}（账单 {bill_no}）获得 {points} 积分，"
        "当前积分余额 {balance}。"),
    ("points_expiring", "en", "*"): (
        "{points} points expire on {expires_on}",
        "Dear {member_name},\n\n{points} of your points expire on {expires_on}. Use them before then."),
    ("points_expiring", "zh_CN", "*"): (
        "您有 {points} 积分将于 {expires_on} 到期", "尊敬的{member_name}：\n\n您有 {points} 积分将于 {expires_on} 到期，请尽快使用。"),
    ("tier_changed", "en", "*"): (
        "Your tier is now {new_tier}", "Dear {member_name},\n\nyour tier changed from {old_tier} to {new_tier}."),
    ("tier_changed", "zh_CN", "*"): (
        "您的会员等级已变更为{new_tier}", "尊敬的{member_name}：\n\n您的会员等级已由{old_tier}变更为{new_tier}。"),
    ("redemption_ready", "en", "*"): (
        "Your reward is ready for pick-up",
        "Dear {member_name},\n\n{reward} (reservation {redemption_no}) is ready for pick-up at {outlet}."),
    ("redemption_ready", "zh_CN", "*"): (
        "您兑换的礼品可以领取了", "尊敬的{member_name}：\n\n您兑换的{reward}（预约号 {redemption_no}）已可在{outlet}领取。"),
    ("appeal_resolved", "en", "*"): (
        "Your points appeal {appeal_no}: {outcome}",
        "Dear {member_name},\n\nyour points appeal {appeal_no} was {outcome}.\n{answer}"),
    ("appeal_resolved", "zh_CN", "*"): (
        "您的积分申诉 {appeal_no}：{outcome}", "尊敬的{member_name}：\n\n您的积分申诉 {appeal_no} 处理结果：{outcome}。\n{answer}"),
    ("birthday", "en", "*"): (
        "Happy birthday, {member_name}!", "Dear {member_name},\n\nhappy birthday from all of us! {bonus_points}"),
    ("birthday", "zh_CN", "*"): ("{member_name}，生日快乐！", "尊敬的{member_name}：\n\n祝您生日快乐！{bonus_points}"),
    ("sign_in_code", "en", "*"): (
        "Your sign-in code", "Your sign-in code is {code}. It is valid for {minutes} minutes. "
                             "Do not share it with anyone."),
    ("sign_in_code", "zh_CN", "*"): ("您的登录验证码", "您的登录验证码为 {code}，{minutes} 分钟内有效，请勿泄露给他人。"),
    ("membership_expiring", "en", "*"): (
        "Your {membership} membership ends on {expires_on}",
        "Dear {member_name},\n\nyour {membership} membership (card {card_no}) is valid until {expires_on}. "
        "Renew it for {fee} at any of our desks to keep its benefits."),
    ("membership_expiring", "zh_CN", "*"): (
        "您的{membership}会员将于 {expires_on} 到期",
        "尊敬的{member_name}：\n\n您的{membership}会员（卡号 {card_no}）有效期至 {expires_on}。"
        "续费 {fee} 即可继续享受会员权益，欢迎到前台办理。"),
    ("campaign", "en", "*"): ("{subject}", "{body}"),
    ("campaign", "zh_CN", "*"): ("{subject}", "{body}"),
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def event_of(name) -> Event:
    try:
        return EVENTS[name]
    except KeyError:
        raise Unprocessable(f"no message event {name!r}", {"event": "no such event"}) from None


def template_for(db, event, language, channel) -> tuple[str, str]:
    """(subject, body) for the event in the language through the channel: staff's own for the
    channel, else staff's for every channel, else the shipped default likewise; a language without
    any falls back to English."""
    saved = {row.channel: (row.subject, row.body) for row in db.scalars(
        select(MessageTemplate).where(MessageTemplate.event == event, MessageTemplate.language == language,
                                      MessageTemplate.channel.in_((channel, ANY_CHANNEL))))}
    for source in (saved, {c: DEFAULTS[(event, language, c)] for c in (channel, ANY_CHANNEL)
                           if (event, language, c) in DEFAULTS}):
        for key in (channel, ANY_CHANNEL):
            if key in source:
                return source[key]
    if language != "en":
        return template_for(db, event, "en", channel)
    raise Unprocessable(f"no template for the message event {event!r}", {"event": "has no template"})


def fill(text, values) -> str:
    """The text with each {placeholder} replaced by its value as plain text (a missing one by
    nothing). Nothing else is interpreted: no attributes, indexes or format specifications."""
    return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), "")), text)


def render(db, event, language, channel, values) -> Rendered:
    subject, body = template_for(db, event, language, channel)
    return Rendered(fill(subject, values).replace("\r", " ").replace("\n", " ").strip(), fill(body, values))


def as_html(body) -> str:
    """A plain-text body as HTML: everything escaped, line breaks kept."""
    paragraphs = [escape(part).replace("\n", "<br>\n") for part in body.split("\n\n")]
    return "".join(f"<p>{part}</p>\n" for part in paragraphs)


def check_template(event, subject, body) -> dict:
    """The errors of a template staff wrote, by field (empty when it is good): a placeholder the
    event does not have, a brace that is not part of a placeholder, or a text too long."""
    allowed = set(event_of(event).placeholders)
    errors = {}
    for field, text, limit in (("subject", subject, MAX_SUBJECT), ("body", body, MAX_BODY)):
        if len(text) > limit:
            errors[field] = f"is longer than {limit} characters"
            continue
        unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in allowed})
        if unknown:
            errors[field] = ("has placeholders this message does not have: " + ", ".join(f"{{{n}}}" for n in unknown)
                             + "; use " + ", ".join(f"{{{n}}}" for n in sorted(allowed)))
        elif BRACES.search(PLACEHOLDER.sub("", text)):
            errors[field] = "has a brace that is not part of a placeholder such as {member_name}"
    if not body.strip():
        errors["body"] = "is required"
    return errors


def save_template(db, event, language, channel, subject, body, *, by=None) -> tuple[dict | None, dict]:
    """Write staff's template; returns (before, after) for the audit log. Refuses a bad one with a
    422 naming the field."""
    event_of(event)
    if language not in LANGUAGES:
        raise Unprocessable(f"no language {language!r}", {"language": f"must be one of {', '.join(LANGUAGES)}"})
    errors = check_template(event, subject, body)
    if errors:
        raise Unprocessable("the template is not valid: " + "; ".join(f"{k} {v}" for k, v in errors.items()), errors)
    row = db.scalar(select(MessageTemplate).where(MessageTemplate.event == event, MessageTemplate.language == language,
                                                  MessageTemplate.channel == channel))
    before = None if row is None else {"subject": row.subject, "body": row.body}
    if row is None:
        row = MessageTemplate(event=event, language=language, channel=channel)
        db.add(row)
    row.subject, row.body, row.updated_at, row.updated_by = subject, body, datetime.now().astimezone(), by
    db.flush()
    return before, {"subject": subject, "body": body}


def reset_template(db, event, language, channel) -> dict | None:
    """Remove staff's template, so the shipped default applies again; returns what it said."""
    row = db.scalar(select(MessageTemplate).where(MessageTemplate.event == event, MessageTemplate.language == language,
                                                  MessageTemplate.channel == channel))
    if row is None:
        return None
    before = {"subject": row.subject, "body": row.body}
    db.delete(row)
    db.flush()
    return before


def sample_values(event, member_name="Li Wei") -> dict:
    ev = event_of(event)
    return {"member_name": member_name, **dict(ev.sample)}
