"""Demo data for `make run`: one hotel with rooms, restaurant and spa, tiers, a card pool and members.

Idempotent: a second run adds nothing but a fresh demo API key (keys are stored hashed, so the
previous one cannot be shown again; it is revoked)."""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, insert, select, update

from lps_core.apikeys.models import ApiKey
from lps_core.apikeys.services import create_api_key
from lps_core.cards.models import Card, CardType
from lps_core.cards.funds import deposit
from lps_core.cards.services import generate_pool
from lps_core.earning.services import OutletContext
from lps_core.marketing.demo import load_demo_marketing
from lps_core.members.models import Member, Tier
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.operators.models import Operator
from lps_core.operators.services import create_operator, set_password
from lps_core.outlets.models import Outlet
from lps_core.outlets.services import ensure_property, save_outlet
from lps_core.partners.demo import load_demo_partner
from lps_core.plugins.switches import set_switch
from lps_core.portal.credentials import set_password as set_member_password
from lps_core.rewards.models import Reward
from lps_core.settings import settings_of
from lps_core.tiers.configuration import create_tier
from lps_core.tiers.schemas import TierIn
from lps_core.timeutil import utcnow
from lps_core.validation import validate

# Lowest first, each created above the one before it through the tier configuration service: code,
# name, multiplier, discount, entitlements, qualification (any one criterion suffices).
TIERS = [
    ("classic", "Classic", "1", "0", [], None),
    ("silver", "Silver", "1.2", "0.05", ["late check-out 13:00"], {"points": 5000, "nights": 10}),
    ("gold", "Gold", "1.5", "0.10", ["late check-out 14:00", "room upgrade"],
     {"points": 20000, "nights": 25, "spend": "50000.00"}),
    ("diamond", "Diamond", "2", "0.15", ["late check-out 16:00", "room upgrade", "lounge"],
     {"points": 60000, "nights": 60}),
]
OUTLETS = [
    ("ROOMS", "Rooms", {"points_per_unit": "1", "unit": "1"}),
    ("REST", "Jade Garden Restaurant", {"points_per_unit": "1", "unit": "2"}),
    ("SPA", "Lotus Spa", {"points_per_unit": "1", "unit": "1"}),
]
# code, name, category, cost in cents, stock (None = unlimited), voucher_valid_days, allowed tiers
REWARDS = [
    ("NIGHT-DLX", "A night in a deluxe room", "room_night", 45000, 20, 365, ["gold", "diamond"]),
    ("DINNER-2", "Dinner for two at Jade Garden", "fnb_voucher", 30000, None, 90, None),
    ("ROBE", "Grand Demo Hotel bathrobe", "item", 8000, 15, None, None),
]
# Card products besides the standard card (docs/cards.md): code, name, prefix, and their features.
CARD_TYPES = [
    ("prepaid", "Prepaid card", "8801", {
        "discount_rate": Decimal("0.05"), "discount_overrides": [{"outlet": "SPA", "rate": "0.10"}],
        "stored_value": True, "credit_limit_cents": 200000,
        "deposit_bonuses": [{"min_deposit": "1000.00", "bonus": "100.00"}, {"min_deposit": "3000.00", "bonus": "400.00"}]}),
    ("spa10", "Lotus Spa 10 sessions", "8802", {"initial_uses": 10, "uses_outlets": ["SPA"], "validity_days": 365}),
    ("gift", "Gift card (bearer)", "8803", {"stored_value": True, "anonymous": True, "pin_required": True}),
    ("club", "Jade Club paid membership", "8805", {"discount_rate": Decimal("0.10"), "membership_fee_cents": 68800,
                                                   "membership_months": 12, "membership_reminder_days": 30}),
]
# A member with a prepaid card and a first deposit: name, phone, card type, deposit in cents.
PREPAID_MEMBER = ("Chen Jing", "+8613800000004", "prepaid", 100000)
MEMBERS = [
    ("Li Wei", "+8613800000001", "li.wei@example.com", date(1985, 3, 14), "male", "gold"),
    ("Zhang Min", "+8613800000002", "zhang.min@example.com", date(1990, 7, 2), "female", "silver"),
    ("Anna Schmidt", "+491700000003", "anna.schmidt@example.com", date(1978, 11, 25), "female", "classic"),
]
DEMO_KEY_LABEL = "demo"
# Named, not the (least-privilege) default: the README's curl session enrols, approves, earns,
# refunds, reads the ledger, deposits and settles; the rewards guide redeems.
DEMO_KEY_SCOPES = ("members", "members.approve", "cards.read", "transactions", "cashier", "rewards")
# A known password, for a demo on one's own machine only: `lps demo` resets it on every run.
DEMO_ADMIN = ("admin", "welcome-lps-2026")
# The demo member's sign-in on the members' portal (/portal): the phone of the first of MEMBERS and a
# known password, for a demo on one's own machine only: `lps demo` resets it on every run.
DEMO_MEMBER = ("13800000001", "welcome-member-2026")
# One demo operator per other role (user name = role), with the same password, and their outlets.
DEMO_STAFF = [
    ("outlet_manager", ["REST"]), ("cashier", ["REST"]), ("front_desk", ["ROOMS"]),
    ("marketing", ["all"]), ("finance_auditor", ["all"]), ("hq_analyst", ["all"]),
]


def load_demo(db, plugins, settings) -> list[str]:
    ensure_property(db, "GDH", "Grand Demo Hotel")
    for code, name, params in OUTLETS:
        save_outlet(db, plugins, code=code, name=name, property_code="GDH", formula="base_rate", params=params)
    for code, name, multiplier, discount, entitlements, qualification in TIERS:
        if db.scalar(select(Tier.id).where(Tier.code == code)) is None:
            create_tier(db, validate(TierIn, {"code": code, "name": name, "multiplier": multiplier,
                                              "discount_rate": discount, "entitlements": entitlements,
                                              "qualification": qualification}))
    if db.scalar(select(CardType.id).where(CardType.code == "standard")) is None:
        db.execute(insert(CardType).values(code="standard", name="Standard member card", prefix="8800"))
    for code, name, prefix, features in CARD_TYPES:
        if db.scalar(select(CardType.id).where(CardType.code == code)) is None:
            db.execute(insert(CardType).values(code=code, name=name, prefix=prefix, **features))
    for code, name, category, cost_cents, stock, voucher_days, tiers in REWARDS:
        if db.scalar(select(Reward.id).where(Reward.code == code)) is None:
            db.execute(insert(Reward).values(code=code, name=name, category=category, cost_cents=cost_cents,
                                             stock=stock, voucher_valid_days=voucher_days, allowed_tiers=tiers,
                                             active=True))
    unissued = db.scalar(select(func.count()).select_from(Card).where(Card.status == "unissued"))
    if unissued < 10:
        generate_pool(db, 20 - unissued, card_type_code="standard")
    cards = []
    for name, phone, email, birthday, gender, tier in MEMBERS:
        member_id = db.scalar(select(Member.id).where(Member.phone_index == phone))
        if member_id is None:
            member_id = enrol_member(db, Enrolment(name=name, channel="desk", phone=phone, email=email,
                                                   birthday=birthday, gender=gender))
            approve_member(db, member_id, issuance=settings_of(settings).card_issuance)
            tier_id = db.scalar(select(Tier.id).where(Tier.code == tier))
            db.execute(update(Member).where(Member.id == member_id).values(tier_id=tier_id))
        card_no = db.scalar(select(Card.card_no).where(Card.member_id == member_id, Card.status == "active"))
        cards.append(f"  {card_no}  {name} ({tier})")
    cards.append(_prepaid_member(db, settings))
    load_demo_partner(db, plugins, settings_of(settings).timezone)
    load_demo_marketing(db)
    if plugins.component("channel", "email") is not None:
        # So that `make run` delivers e-mail (one-time codes of the portal among them) to its local
        # SMTP server; production switches channels on the configuration screens.
        set_switch(db, plugins, kind="channel", name="email", scope="programme", scope_id=0, enabled=True)
    member_phone, member_password = DEMO_MEMBER
    set_member_password(db, db.scalar(select(Member.id).where(Member.phone_index == MEMBERS[0][1])), member_password)
    db.execute(update(ApiKey).where(ApiKey.label == DEMO_KEY_LABEL, ApiKey.revoked_at.is_(None))
               .values(revoked_at=utcnow()))
    key = create_api_key(db, "REST", DEMO_KEY_SCOPES, label=DEMO_KEY_LABEL)
    username, password = DEMO_ADMIN
    _demo_operator(db, username, password, "administrator", ["all"])
    staff = []
    for role, outlets in DEMO_STAFF:
        _demo_operator(db, role.replace("_", "-"), password, role, outlets)
        staff.append(f"  {role.replace('_', '-')} / {password}  ({role}, outlets: {', '.join(outlets)})")
    return [
        "Demo data ready: hotel GDH with outlets ROOMS, REST, SPA; tiers classic/silver/gold/diamond;",
        "card types standard, prepaid (stored value with deposit bonuses), spa10 (10 spa sessions), gift (bearer),",
        "club (paid membership) and crust (co-branded with the partner bakery BAKERY);",
        "coupon types BDAY-10 and DINE-50, two saved segments and a draft campaign.",
        f"Staff sign-in at /login (http://127.0.0.1:6543/login with make run) as {username} / {password}",
        "Members' portal at /portal (http://127.0.0.1:6543/portal with make run): sign in as "
        f"{MEMBERS[0][0]} with phone {member_phone} (or the card number below) / {member_password}",
        "Demo member cards:",
        *cards,
        "Demo operators, one per role:",
        *staff,
        "Demo API key for outlet REST (a new one each run; the previous demo key is revoked):",
        key,
    ]


def _prepaid_member(db, settings) -> str:
    """A member holding a prepaid card with a first deposit (and its bonus), for the cashier demo."""
    name, phone, card_type, deposit_cents = PREPAID_MEMBER
    member_id = db.scalar(select(Member.id).where(Member.phone_index == phone))
    if member_id is None:
        member_id = enrol_member(db, Enrolment(name=name, channel="desk", phone=phone))
        approve_member(db, member_id, issuance=settings_of(settings).card_issuance, card_type_code=card_type)
    card = db.scalars(select(Card).where(Card.member_id == member_id, Card.status == "active")).first()
    outlet = OutletContext(db.scalar(select(Outlet.id).where(Outlet.code == "REST")), "REST")
    deposit(db, card, card.card_type, outlet, deposit_no="DEMO-1", amount_cents=deposit_cents, tender="cash",
            occurred_at=utcnow())
    return f"  {card.card_no}  {name} (prepaid card: 1000.00 deposited, 100.00 bonus)"


def _demo_operator(db, username, password, role, outlets):
    operator_id = db.scalar(select(Operator.id).where(Operator.username == username))
    if operator_id is None:
        create_operator(db, username, password, display_name=f"Demo {role.replace('_', ' ')}", roles=[role],
                        outlets=outlets, must_change_password=False)
    else:
        set_password(db, operator_id, password)
