"""What the website asks of LPS for one member: signing up (into the approval queue, once per
website reference), checking a sign-in for single sign-on, handing a signed-in member over to the
portal, and the member's points, tier, ledger and rewards. Built on the members', the portal's
and the rewards' own services; nothing here reads `request`."""
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from lps_core.audit.services import record
from lps_core.cards.models import Card, CardType
from lps_core.db.idempotency import claim, replay_or_conflict
from lps_core.errors import ConfigurationError, Conflict, NotFound, Unprocessable, ValidationFailed
from lps_core.ledger.services import fingerprint_of
from lps_core.members.models import Member, Tier
from lps_core.members.services import clean_enrolment, enrol_member
from lps_core.pii import phone_region_of
from lps_core.portal import credentials
from lps_core.outlets.models import Outlet
from lps_core.portal.services import cancel_reservation as portal_cancel
from lps_core.portal.services import (
    expiring_points,
    ledger_page,
    member_card_no,
    member_reservations,
    points_balance,
    reward_offers,
)
from lps_core.rewards.services import RedeemRequest, redeem
from lps_core.timeutil import as_utc, utcnow
from lps_core.website.models import PortalHandover, WebsiteSignUp

SIGNUPS = WebsiteSignUp.__table__
HANDOVER_SETTING = "lps.website.handover_seconds"
DEFAULT_HANDOVER_SECONDS = 60
HANDOVER_RANGE = (10, 600)
WEBSITE_REQUEST = "website"


# --- Sign-up -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignUp:
    member_id: int
    reference: str
    status: str
    replayed: bool
    card_no: str | None = None
    reason: str | None = None


def sign_up(db, body, *, actor, address=None) -> SignUp:
    """Enrol the member the website's form describes, pending approval, exactly once per
    `body.reference`: the same reference with the same details answers the first sign-up (replayed),
    with other details 409 naming `reference`. The enrolment's own rules apply as at the desk
    (lps_core.members.services.clean_enrolment and enrol_member): a phone number another member
    holds is 409 naming that member unless force_duplicate_phone. The password, if any, becomes
    the member's portal password; it is not part of the fingerprint, and a replay keeps the first."""
    details = body.model_dump(exclude={"password", "force_duplicate_phone"}, mode="json")
    fingerprint = fingerprint_of(details)
    replay = _replayed_sign_up(db, body.reference, fingerprint)
    if replay is not None:
        return replay
    try:
        enrolment = clean_enrolment(body.enrolment(), phone_region=phone_region_of(db))
    except ValidationFailed as exc:  # the body matched its schema: what the domain refuses now is 422
        raise Unprocessable(exc.message, exc.fields) from None
    if body.password is not None:
        problem = credentials.check_new_password(body.password, body.password)
        if problem:
            raise Unprocessable("the password is too weak", {"password": problem["password"].interpolate()})
    # Two resends at once both get here: the member row is made in a savepoint, and the one whose
    # claim of the reference finds it taken undoes its member and answers the first one's.
    savepoint = db.begin_nested()
    member_id = enrol_member(db, enrolment, force_duplicate_phone=body.force_duplicate_phone)
    signup_id = claim(db, SIGNUPS, ("reference",), {
        "reference": body.reference, "member_id": member_id, "fingerprint": fingerprint,
        "api_key_id": actor.id, "created_at": utcnow()})
    if signup_id is None:
        savepoint.rollback()
        return _replayed_sign_up(db, body.reference, fingerprint)
    savepoint.commit()
    if body.language is not None:
        db.execute(update(Member).where(Member.id == member_id).values(language=body.language))
    if body.password is not None:
        credentials.set_password(db, member_id, body.password)
    record(db, actor=actor, action="member.enrol", target=("member", member_id), address=address,
           after={"name": enrolment.name, "channel": "web", "website_reference": body.reference,
                  "portal_password": "set" if body.password is not None else None})
    return SignUp(member_id, body.reference, "pending", False)


def _replayed_sign_up(db, reference, fingerprint) -> SignUp | None:
    row = db.execute(select(WebsiteSignUp.fingerprint).where(WebsiteSignUp.reference == reference)).one_or_none()
    if row is None:
        return None
    replay_or_conflict(row.fingerprint, fingerprint, f"sign-up {reference} was sent before with other details",
                       {"reference": "already used for a sign-up with other details"})
    return sign_up_status(db, reference, replayed=True)


def sign_up_status(db, reference, *, replayed=False) -> SignUp:
    """Where the sign-up `reference` stands: pending, active (with the card issued), rejected (with
    the reason staff gave), or whatever the member's status has become since."""
    row = db.execute(select(WebsiteSignUp.member_id, Member.status, Member.status_reason)
                     .join(Member, Member.id == WebsiteSignUp.member_id)
                     .where(WebsiteSignUp.reference == reference)).one_or_none()
    if row is None:
        raise NotFound(f"no sign-up {reference}", {"reference": "no sign-up has this reference"})
    card_no = _member_card(db, row.member_id)
    return SignUp(row.member_id, reference, row.status, replayed, card_no,
                  row.status_reason if row.status == "rejected" else None)


def _member_card(db, member_id) -> str | None:
    """The member's card for the website: the newest active one, else the newest in use."""
    return db.scalar(select(Card.card_no).where(Card.member_id == member_id,
                                                Card.status.in_(("active", "frozen", "pending")))
                     .order_by((Card.status == "active").desc(), Card.id.desc()).limit(1))


# --- Sign-in verification for single sign-on ---------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """What a sign-in check found: `accepted` (with the member), `refused` (no such card or phone,
    no password yet, a wrong password, a locked account: one answer for all), `throttled` (too
    many failures from the browser's address), or, once the password was right, `pending`
    (waiting for approval) or `inactive` (closed, rejected)."""

    verdict: str
    member_id: int | None = None


def verify_sign_in(db, identifier, password, *, address) -> Verdict:
    """Check a member's card or phone number and portal password exactly as the portal's sign-in
    does (lps_core.portal.credentials): the same argon2 work whether the member exists or not, the
    same lock-out per account and the same throttle per address (the browser's, as the website saw it)."""
    result = credentials.sign_in_with_password(db, identifier, password, address=address)
    if result.member_id is not None:
        return Verdict("accepted", result.member_id)
    if result.throttled:
        return Verdict("throttled")
    if result.error == credentials.PENDING:
        return Verdict("pending")
    if result.error == credentials.NOT_ACTIVE:
        return Verdict("inactive")
    return Verdict("refused")


# --- Handover to the portal ------------------------------------------------------------------------------

def handover_seconds(settings) -> int:
    """lps.website.handover_seconds: how long a handover token lives (10 to 600 seconds, default 60)."""
    raw = (settings or {}).get(HANDOVER_SETTING)
    if raw in (None, ""):
        return DEFAULT_HANDOVER_SECONDS
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = None
    if value is None or not HANDOVER_RANGE[0] <= value <= HANDOVER_RANGE[1]:
        raise ConfigurationError(f"{HANDOVER_SETTING} must be a whole number from {HANDOVER_RANGE[0]} to "
                                 f"{HANDOVER_RANGE[1]}, not {raw!r}")
    return value


def handover_key(secret: str) -> bytes:
    """The key handover tokens are signed with, derived from the portal's secret."""
    return hmac.new(secret.encode(), b"lps.website.handover", hashlib.sha256).digest()


def _signature(key, nonce, member_id, expires_at) -> str:
    message = f"{nonce}|{member_id}|{int(as_utc(expires_at).timestamp())}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode().rstrip("=")


def _digest(nonce) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


@dataclass(frozen=True)
class Handover:
    token: str
    expires_at: datetime
    next_path: str


def issue_handover(db, member_id, next_path, *, key, seconds, api_key_id=None, now=None) -> Handover:
    """A single-use token that signs `member_id` in to the portal at /portal/handover within
    `seconds`. The member must exist (404) and be one who may sign in (422 naming member_id).
    Tokens that expired more than a day ago, anyone's, are cleared out on the way."""
    now = as_utc(now or utcnow())
    if db.scalar(select(Member.id).where(Member.id == member_id)) is None:
        raise NotFound(f"member {member_id} does not exist", {"member_id": "no such member"})
    problem = credentials.member_may_sign_in(db, member_id)
    if problem is not None:
        state = "is waiting for approval" if problem == credentials.PENDING else "is not an active member"
        raise Unprocessable(f"member {member_id} cannot sign in to the portal", {"member_id": state})
    db.execute(PortalHandover.__table__.delete().where(PortalHandover.expires_at < now - timedelta(days=1)))
    nonce = secrets.token_urlsafe(24)
    expires_at = now + timedelta(seconds=seconds)
    db.execute(PortalHandover.__table__.insert().values(
        token_hash=_digest(nonce), member_id=member_id, next_path=next_path, expires_at=expires_at,
        api_key_id=api_key_id, created_at=now))
    return Handover(f"{nonce}.{_signature(key, nonce, member_id, expires_at)}", expires_at, next_path)


def redeem_handover(db, token, *, key, now=None) -> tuple[int, str] | None:
    """(member, portal page) of a handover token, used up by this call; None for a token that is
    malformed, unknown, forged, expired or used, or whose member may not sign in now."""
    now = as_utc(now or utcnow())
    if not isinstance(token, str) or len(token) > 100 or token.count(".") != 1:
        return None
    nonce, signature = token.split(".")
    table = PortalHandover.__table__
    used = db.execute(update(table).where(table.c.token_hash == _digest(nonce), table.c.used_at.is_(None),
                                          table.c.expires_at > now)
                      .values(used_at=now).returning(table.c.member_id, table.c.next_path, table.c.expires_at)
                      ).one_or_none()
    if used is None or not hmac.compare_digest(signature, _signature(key, nonce, used.member_id, used.expires_at)):
        return None
    if credentials.member_may_sign_in(db, used.member_id) is not None:
        return None
    return used.member_id, used.next_path


# --- The member's points, tier and rewards ---------------------------------------------------------------

def member_overview(db, member_id) -> dict:
    """The member as the website shows them: status, tier, points balance with what expires soonest
    ((moment, points) of the next few expiry dates), and their cards."""
    row = db.execute(select(Member.id, Member.name, Member.status, Member.email, Member.language,
                            Member.tier_since, Tier.code, Tier.name.label("tier_name"))
                     .outerjoin(Tier, Tier.id == Member.tier_id).where(Member.id == member_id)).one_or_none()
    if row is None:
        raise NotFound(f"member {member_id} does not exist", {"id": "no such member"})
    cards = db.execute(select(Card.card_no, Card.status, CardType.code).join(CardType, CardType.id == Card.card_type_id)
                       .where(Card.member_id == member_id, Card.status.not_in(("unissued",)))
                       .order_by(Card.id)).all()
    return {"id": row.id, "name": row.name, "status": row.status, "email": row.email, "language": row.language,
            "tier": {"code": row.code, "name": row.tier_name} if row.code else None, "tier_since": row.tier_since,
            "card_no": _member_card(db, member_id), "points_balance": points_balance(db, member_id),
            "expiring": expiring_points(db, member_id),
            "cards": [{"card_no": card_no, "status": status, "card_type": code} for card_no, status, code in cards]}


def require_member(db, member_id) -> None:
    if db.scalar(select(Member.id).where(Member.id == member_id)) is None:
        raise NotFound(f"member {member_id} does not exist", {"id": "no such member"})


def member_ledger(db, member_id, page, per_page) -> tuple[int, list]:
    """The member's points ledger, newest first: (total, one page), as the portal shows it."""
    require_member(db, member_id)
    return ledger_page(db, member_id, page, per_page)


def member_rewards(db, member_id, ratio) -> dict:
    """The rewards offered now with the points the member still misses for each, whether their tier
    may have it and any is left, and the member's reservations."""
    require_member(db, member_id)
    tier_code = db.scalar(select(Tier.code).join(Member, Member.tier_id == Tier.id).where(Member.id == member_id))
    return {"balance": points_balance(db, member_id), "offers": reward_offers(db, member_id, tier_code, ratio),
            "reservations": member_reservations(db, member_id)}


def reserve(db, member_id, reward_code, outlet_code, request_key, ratio, *, tz=None):
    """Reserve a reward for the member for pick-up at an outlet, as the portal does: a redemption
    awaiting pick-up in the staff's queue, with the member's active card, idempotent on the
    website's `request_key` per member (its request no. is website-<member>-<key>)."""
    require_member(db, member_id)
    outlet = db.execute(select(Outlet.id, Outlet.code).where(Outlet.code == outlet_code, Outlet.active.is_(True))
                        ).one_or_none()
    if outlet is None:
        raise Unprocessable(f"no active outlet {outlet_code!r}", {"outlet": "no active outlet has this code"})
    card_no = member_card_no(db, member_id)
    if card_no is None:
        raise Conflict(f"member {member_id} has no active card", {"id": "the member has no active card"})
    request = RedeemRequest(card_no=card_no, reward_code=reward_code, quantity=1,
                            request_no=f"{WEBSITE_REQUEST}-{member_id}-{request_key}", collect_now=False)
    return redeem(db, outlet, request, ratio, tz=tz)


def cancel_reservation(db, member_id, number):
    """Cancel one of the member's reservations still awaiting pick-up (the portal's own rule)."""
    require_member(db, member_id)
    return portal_cancel(db, member_id, number)
