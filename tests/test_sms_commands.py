"""SMS commands through the webhook, as the gateway calls it: signed requests, refusals (signature,
old timestamps, replays), members matched by the phone blind index, and each command's answer,
read from a local SMS gateway after `lps worker`'s Worker delivers the outbox."""
import hashlib
import hmac
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.messages.consent import has_consent, set_consent
from lps_core.messages.models import QUEUED, OutboxMessage
from lps_core.rewards.models import Redemption, Reward
from lps_core.sms.commands import parse_command
from lps_core.sms.inbound import parse_timestamp
from lps_core.sms.models import SmsInbound
from lps_core.settings import Settings
from lps_core.testing import TEST_SETTINGS
from lps_core.timeutil import utcnow

SECRET = "inbound-secret-of-the-gateway"
PHONE = "+8613912345678"
WEBHOOK = "/hooks/sms/inbound"
ANSWERS = ("sms_reply", "redemption_ready")


class SmsGateway:
    """A local SMS gateway: keeps every message LPS sends it and answers {"code": "OK"}."""

    def __init__(self):
        self.sent = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.sent.append(body)
                answer = json.dumps({"code": "OK", "id": f"gw-{len(gateway.sent)}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answers_to(self, db, phone) -> list[str]:
        """The texts sent to `phone` that answer SMS commands (not, say, the approval's message)."""
        db.commit()  # a new snapshot of what the app and the worker committed
        answers = db.scalars(select(OutboxMessage.id).where(OutboxMessage.event.in_(ANSWERS)))
        ids = {f"lps-message-{outbox_id}" for outbox_id in answers}
        return [message["text"] for message in self.sent if message["to"] == phone and message["id"] in ids]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def gateway():
    server = SmsGateway()
    yield server
    server.close()


@pytest.fixture(scope="module")
def app_settings(database_url, gateway):
    return {"sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "0", "lps.rules.cache_seconds": "0",
            **TEST_SETTINGS, "lps.sms.inbound_secret": SECRET, "lps.sms.outlet": "REST",
            "lps.sms_gateway.url": gateway.url, "lps.sms_gateway.signature_algorithm": "none",
            "lps.messages.quiet_hours": "", "lps.messages.rate_limit_per_hour": "0"}


@pytest.fixture(scope="module")
def sms_app(app_settings):
    from lps_core import main

    return main({}, **app_settings)


@pytest.fixture
def webapp(sms_app, seed, gateway):
    from webtest import TestApp

    seed.switch("channel", "sms")
    gateway.sent.clear()
    return TestApp(sms_app)


@pytest.fixture
def deliver(app_settings, engine, test_engine):
    """Run the outbox worker once, as `lps worker --once` does."""
    from lps_core.messages.worker import Worker
    from lps_core.plugins import load_plugins

    worker = Worker(lambda: Session(engine), load_plugins(app_settings), Settings.from_mapping(app_settings),
                    read_session_factory=lambda: Session(test_engine), name="test")
    return lambda: worker.run(once=True)


def enrol(db, name="Li Wei", phone=PHONE, points=0) -> int:
    member_id = enrol_member(db, Enrolment(name=name, channel="desk", phone=phone), force_duplicate_phone=True)
    approve_member(db, member_id)
    if points:
        account = db.scalar(select(Account.id).where(Account.member_id == member_id, Account.kind == POINTS))
        for amount, days in ((points - 300, 400), (200, 40), (100, 40)):
            ledger.credit(db, account, amount, kind="adjustment", business_key=f"test:{member_id}:{days}:{amount}",
                          fingerprint="f", occurred_at=utcnow(), expires_at=utcnow() + timedelta(days=days))
    db.commit()
    return member_id


def signed(text, *, phone=PHONE, nonce="n-1", timestamp=None, secret=SECRET):
    """A form body and its headers, signed as the default settings say: HMAC-SHA256 (hex) of
    timestamp, nonce and body on three lines."""
    timestamp = str(int(utcnow().timestamp())) if timestamp is None else timestamp
    body = urlencode({"from": phone, "text": text})
    signature = hmac.new(secret.encode(), f"{timestamp}\n{nonce}\n{body}".encode(), hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/x-www-form-urlencoded", "X-Timestamp": timestamp,
                  "X-Nonce": nonce, "X-Signature": signature}


def text_in(webapp, message, status=200, **options):
    body, headers = signed(message, **options)
    return webapp.post(WEBHOOK, body, headers=headers, status=status)


def test_balance_in_chinese_answers_points_tier_and_what_expires_next(webapp, db, gateway, deliver):
    enrol(db, points=1500)
    answer = text_in(webapp, "余额")
    assert answer.json["status"] == "received"
    deliver()
    (reply,) = gateway.answers_to(db, PHONE)
    expires = (utcnow() + timedelta(days=40)).date().isoformat()
    assert reply == f"您的积分余额 1,500 分，会员等级：Classic。其中 300 分将于 {expires} 到期。"


def test_balance_in_english_with_nothing_to_expire(webapp, db, gateway, deliver):
    enrol(db)
    text_in(webapp, "bal")
    deliver()
    assert gateway.answers_to(db, PHONE) == ["Your balance is 0 points, tier Classic. None expire soon."]


def test_the_number_is_matched_in_any_form_by_the_blind_index(webapp, db, gateway, deliver):
    enrol(db)
    text_in(webapp, "BAL", phone="139 1234 5678")  # no country code: read in lps.phone.default_region (CN)
    deliver()
    assert len(gateway.answers_to(db, PHONE)) == 1
    assert db.scalar(select(SmsInbound.member_id)) is not None


def reward(db, code="TEA", points=500, stock=5, **values):
    db.execute(insert(Reward).values(**{"code": code, "name": "Afternoon tea", "category": "item", "cost_cents": 5000,
                                        "points_price": points, "stock": stock, "active": True, **values}))
    db.commit()


def test_redeem_by_code_reserves_the_reward_for_pick_up_and_answers_the_number(webapp, db, gateway, deliver):
    member_id = enrol(db, points=1500)
    reward(db)
    text_in(webapp, "兑换 tea")
    (redemption,) = db.scalars(select(Redemption)).all()
    assert (redemption.member_id, redemption.status, redemption.points) == (member_id, "awaiting_pickup", 500)
    assert db.scalar(select(Reward.stock).where(Reward.code == "TEA")) == 4
    assert db.scalar(select(Account.balance).where(Account.member_id == member_id, Account.kind == POINTS)) == 1000
    inbound = db.scalar(select(SmsInbound))
    assert (inbound.command, inbound.outcome, inbound.redemption_id) == ("redeem", "redeemed", redemption.id)
    deliver()
    (reply,) = gateway.answers_to(db, PHONE)
    assert f"R{redemption.id:08d}" in reply and "Afternoon tea" in reply and "Restaurant" in reply


@pytest.mark.parametrize(("message", "setup", "reason"), [
    ("REDEEM NOPE", {}, "NOPE could not be reserved: there is no reward with this code"),
    ("REDEEM TEA", {"points": 5000}, "TEA could not be reserved: not enough points (5,000 needed)"),
    ("REDEEM TEA", {"stock": 0}, "TEA could not be reserved: it is out of stock"),
    ("REDEEM TEA", {"active": False}, "TEA could not be reserved: it cannot be reserved now"),
    ("REDEEM TEA", {"allowed_tiers": ["gold"]}, "TEA could not be reserved: it is not offered to your tier"),
    ("REDEEM", {}, "Reply REDEEM and the reward's code, for example: REDEEM TEA"),
])
def test_a_refused_reservation_answers_why_and_changes_nothing(webapp, db, gateway, deliver, message, setup, reason):
    member_id = enrol(db, points=1500)
    reward(db, **{"points": 500, "stock": 5, **setup})
    text_in(webapp, message)
    assert db.scalars(select(Redemption)).all() == []
    assert db.scalar(select(Account.balance).where(Account.member_id == member_id, Account.kind == POINTS)) == 1500
    deliver()
    assert gateway.answers_to(db, PHONE) == [reason]


def test_help_lists_the_words_of_the_language_asked_in(webapp, db, gateway, deliver):
    enrol(db)
    text_in(webapp, "帮助", nonce="n-1")
    text_in(webapp, "HELP", nonce="n-2")
    text_in(webapp, "what?", nonce="n-3")
    deliver()
    help_zh = "回复 余额 查询积分；兑换 礼品代码 预约礼品；退订 不再接收推广短信。"
    help_en = "Reply BAL for your points, REDEEM <code> to reserve a reward, STOP to stop promotions."
    assert sorted(gateway.answers_to(db, PHONE)) == sorted([help_zh, help_en, help_en])
    outcomes = db.scalars(select(SmsInbound.outcome).order_by(SmsInbound.id)).all()
    assert outcomes == ["answered", "answered", "not_understood"]


def test_stop_withdraws_sms_marketing_consent_through_the_consent_service(webapp, db, gateway, deliver):
    member_id = enrol(db)
    set_consent(db, member_id, "sms", True, source="portal")
    db.commit()
    text_in(webapp, "TD")
    db.expire_all()
    assert not has_consent(db, member_id, "sms")
    deliver()
    assert gateway.answers_to(db, PHONE) == ["您已退订推广短信，服务通知仍会照常发送。"]


def test_an_unknown_number_gets_a_neutral_answer(webapp, db, gateway, deliver):
    enrol(db)
    text_in(webapp, "余额", phone="+8613700000001")
    deliver()
    assert gateway.answers_to(db, "+8613700000001") == ["感谢您的短信。如需帮助，请联系酒店前台。"]
    assert db.scalar(select(SmsInbound.outcome)) == "unknown_number"


def test_a_closed_members_number_is_unknown(webapp, db, gateway, deliver):
    member_id = enrol(db, points=1500)
    db.get(Member, member_id).status = "closed"
    db.commit()
    text_in(webapp, "BAL")
    deliver()
    neutral = "Thank you for your message. For help, please contact the hotel's front desk."
    assert gateway.answers_to(db, PHONE) == [neutral]


def test_a_number_several_members_share_is_sent_to_the_desk(webapp, db, gateway, deliver):
    enrol(db, "Li Wei")
    enrol(db, "Li Na")
    text_in(webapp, "BAL")
    deliver()
    assert gateway.answers_to(db, PHONE) == ["Several memberships use this number: please contact the front desk."]


def test_a_replay_is_refused_and_nothing_is_done_twice(webapp, db, gateway, deliver):
    enrol(db, points=1500)
    reward(db)
    body, headers = signed("REDEEM TEA", nonce="gw-msg-77")
    webapp.post(WEBHOOK, body, headers=headers, status=200)
    again = webapp.post(WEBHOOK, body, headers=headers, status=409)
    assert again.content_type == "application/problem+json"
    assert again.json["fields"] == {"nonce": "was received before"}
    assert len(db.scalars(select(Redemption)).all()) == 1
    deliver()
    assert len(gateway.answers_to(db, PHONE)) == 1


def minutes_from_now(minutes) -> str:
    return str(int((utcnow() + timedelta(minutes=minutes)).timestamp()))


# The timestamps are made when the test runs, not when it is collected: a whole suite takes longer
# than the ten minutes they are off by.
@pytest.mark.parametrize(("change", "field"), [
    ({"secret": "not-the-secret"}, "signature"),
    ({"timestamp": lambda: minutes_from_now(-10)}, "timestamp"),
    ({"timestamp": lambda: minutes_from_now(10)}, "timestamp"),
    ({"timestamp": "yesterday"}, "timestamp"),
])
def test_a_bad_signature_or_an_old_timestamp_is_refused(webapp, db, gateway, change, field):
    enrol(db)
    change = {name: value() if callable(value) else value for name, value in change.items()}
    answer = text_in(webapp, "BAL", status=403, **change)
    assert list(answer.json["fields"]) == [field]
    assert db.scalars(select(SmsInbound)).all() == []
    assert db.scalars(select(OutboxMessage).where(OutboxMessage.event.in_(ANSWERS))).all() == []


def test_a_tampered_body_or_a_missing_signature_is_refused(webapp, db):
    enrol(db)
    body, headers = signed("BAL")
    webapp.post(WEBHOOK, body.replace("BAL", "STOP"), headers=headers, status=403)
    del headers["X-Signature"]
    answer = webapp.post(WEBHOOK, body, headers=headers, status=403)
    assert answer.json["fields"] == {"signature": "is missing"}


def test_the_answer_is_queued_in_the_webhooks_transaction(webapp, db):
    enrol(db)
    answer = text_in(webapp, "BAL")
    (row,) = db.scalars(select(OutboxMessage).where(OutboxMessage.event.in_(ANSWERS))).all()
    assert (row.event, row.channel, row.status, row.kind, row.recipient) == ("sms_reply", "sms", QUEUED, "service",
                                                                           PHONE)
    assert row.dedupe_key == f"sms_reply:{answer.json['id']}"


def test_without_a_secret_there_is_no_webhook(wsgi_app, seed):
    from webtest import TestApp

    body, headers = signed("BAL")
    TestApp(wsgi_app).post(WEBHOOK, body, headers=headers, status=404)


def test_a_json_gateway_signing_with_hmac_sha1_in_base64_and_millisecond_timestamps(database_url, gateway, seed, db):
    import base64

    from webtest import TestApp

    from lps_core import main

    app = TestApp(main({}, **{
        "sqlalchemy.url": database_url, **TEST_SETTINGS, "lps.sms.inbound_secret": SECRET,
        "lps.sms.inbound_algorithm": "hmac-sha1", "lps.sms.inbound_encoding": "base64",
        "lps.sms.inbound_signature_string": "{phone}|{text}|{timestamp}|{nonce}",
        "lps.sms.inbound_signature": "param:sign", "lps.sms.inbound_timestamp": "param:ts",
        "lps.sms.inbound_nonce": "param:msgid", "lps.sms.inbound_phone": "param:mobile",
        "lps.sms.inbound_text": "param:content"}))
    enrol(db)
    timestamp = str(int(utcnow().timestamp() * 1000))
    canonical = f"{PHONE}|余额|{timestamp}|m-1"
    sign = base64.b64encode(hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha1).digest()).decode()
    app.post_json(WEBHOOK, {"mobile": PHONE, "content": "余额", "ts": timestamp, "msgid": "m-1", "sign": sign},
                  status=200)
    (row,) = db.scalars(select(OutboxMessage).where(OutboxMessage.event.in_(ANSWERS))).all()
    assert row.body.startswith("您的积分余额 0 分")


@pytest.mark.parametrize(("message", "command", "language", "argument"), [
    ("余额", "balance", "zh_CN", ""),
    (" bal ", "balance", "en", ""),
    ("ＢＡＬ", "balance", "en", ""),
    ("兑换TEA", "redeem", "zh_CN", "TEA"),
    ("兑换　tea", "redeem", "zh_CN", "tea"),
    ("redeem  TEA  2", "redeem", "en", "TEA  2"),
    ("REDEEMTEA", None, "en", ""),
    ("T", "stop", "zh_CN", ""),
    ("STOP", "stop", "en", ""),
    ("？", "help", "en", ""),
    ("你好", None, "zh_CN", ""),
])
def test_command_words(message, command, language, argument):
    parsed = parse_command(message, Settings().sms.words)
    assert (parsed.name, parsed.language, parsed.argument) == (command, language, argument)


@pytest.mark.parametrize(("text", "expected"), [
    ("1790000000", datetime(2026, 9, 21, 14, 13, 20, tzinfo=timezone.utc)),
    ("1790000000000", datetime(2026, 9, 21, 14, 13, 20, tzinfo=timezone.utc)),
    ("2026-09-21T22:13:20+08:00", datetime(2026, 9, 21, 14, 13, 20, tzinfo=timezone.utc)),
    ("2026-09-21T14:13:20Z", datetime(2026, 9, 21, 14, 13, 20, tzinfo=timezone.utc)),
    ("2026-09-21T14:13:20", None),
    ("", None),
])
def test_timestamps(text, expected):
    assert parse_timestamp(text) == expected
