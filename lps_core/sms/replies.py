"""What LPS answers to an SMS command, in the language of the word the member texted, and how the
answer is queued.

A reservation made by SMS is answered by the message every reservation for pick-up queues (the
outbox event `redemption_ready`, whose template staff edit, queued by the rewards service). The
other answers are free text to the number that asked, which may belong to no member: the outbox's
events have no such message, so they are written as outbox rows of the event `sms_reply` on the
channel `sms`, service messages that the worker delivers like any other
(lps_core.messages.worker): after the commit, retried, logged on the member's page, never sent for
a request that rolled back."""
from lps_core.messages.models import QUEUED, SERVICE, OutboxMessage
from lps_core.timeutil import utcnow

SMS_REPLY = "sms_reply"
SMS_CHANNEL = "sms"

TEXTS = {
    "zh_CN": {
        "balance": "您的积分余额 {points} 分，会员等级：{tier}。{expiry}",
        "expiry": "其中 {points} 分将于 {date} 到期。",
        "no_expiry": "近期没有到期的积分。",
        "no_tier": "无",
        "refused": "未能兑换 {code}：{reason}",
        "redeem_usage": "请回复“兑换 礼品代码”，例如：兑换 TEA",
        "help": "回复 {balance} 查询积分；{redeem} 礼品代码 预约礼品；{stop} 不再接收推广短信。",
        "stop": "您已退订推广短信，服务通知仍会照常发送。",
        "unknown_number": "感谢您的短信。如需帮助，请联系酒店前台。",
        "several_members": "此号码登记了多位会员，无法通过短信办理，请联系酒店前台。",
        "no_such_reward": "没有这个礼品代码",
        "out_of_stock": "礼品已兑完",
        "insufficient_points": "积分不足（需要 {needed} 分）",
        "not_available": "该礼品目前不可兑换",
        "not_for_tier": "该礼品不适用于您的会员等级",
        "card_unusable": "您的会员卡目前不能兑换，请联系酒店前台",
        "no_outlet": "暂不支持短信兑换，请联系酒店前台",
        "other": "请联系酒店前台",
    },
    "en": {
        "balance": "Your balance is {points} points, tier {tier}. {expiry}",
        "expiry": "{points} of them expire on {date}.",
        "no_expiry": "None expire soon.",
        "no_tier": "none",
        "refused": "{code} could not be reserved: {reason}",
        "redeem_usage": "Reply REDEEM and the reward's code, for example: REDEEM TEA",
        "help": "Reply {balance} for your points, {redeem} <code> to reserve a reward, {stop} to stop promotions.",
        "stop": "You will receive no more promotions by SMS. Service messages still come.",
        "unknown_number": "Thank you for your message. For help, please contact the hotel's front desk.",
        "several_members": "Several memberships use this number: please contact the front desk.",
        "no_such_reward": "there is no reward with this code",
        "out_of_stock": "it is out of stock",
        "insufficient_points": "not enough points ({needed} needed)",
        "not_available": "it cannot be reserved now",
        "not_for_tier": "it is not offered to your tier",
        "card_unusable": "your card cannot be used for rewards now; please contact the front desk",
        "no_outlet": "rewards cannot be reserved by SMS; please contact the front desk",
        "other": "please contact the front desk",
    },
}


def text(language, name, **values) -> str:
    texts = TEXTS.get(language, TEXTS["en"])
    return texts[name].format(**values).strip()


def queue_reply(db, *, phone, body, language, member_id, outlet_id, inbound_id) -> int | None:
    """Queue `body` to `phone` (E.164) as the answer to the inbound message `inbound_id`; returns the
    outbox id (None when this inbound message was answered already)."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    statement = insert(OutboxMessage).values(
        member_id=member_id, outlet_id=outlet_id, event=SMS_REPLY, channel=SMS_CHANNEL, kind=SERVICE,
        language=language, recipient=phone, subject="", body=body, html=None, secret=False, status=QUEUED,
        tries=0, next_attempt_at=now, dedupe_key=f"{SMS_REPLY}:{inbound_id}", created_at=now,
    ).on_conflict_do_nothing(index_elements=["dedupe_key", "channel"])
    return db.scalar(statement.returning(OutboxMessage.id))

