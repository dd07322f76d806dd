"""The members' portal under /portal: registration, sign-in (password or one-time code), the
dashboard, the points ledger, rewards, appeals, the profile and the inbox.

Every view is public to Pyramid's (staff) security policy by declaration and checks the member's
own session itself (`request.portal_member`), so no staff permission ever opens a portal page and
the staff's forbidden view never answers here. Every POST carries the portal's CSRF token."""
import logging
import uuid
from contextlib import contextmanager
from datetime import date, timedelta

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPNotFound, HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import exception_view_config, notfound_view_config, view_config
from sqlalchemy import select

from lps_core.appeals.services import (
    AppealSettings,
    Filing,
    Receipt,
    file_by_member,
    member_actor,
    member_appeals,
)
from lps_core.audit.services import record
from lps_core.cards.models import Card
from lps_core.cards.services import normalize_card_no
from lps_core.coupons.services import coupon_picture, valid_coupons_of
from lps_core.errors import InsufficientBalance, LpsError, ValidationFailed
from lps_core.members.models import PREFERENCE_KEYS, Member, Tier
from lps_core.members.schemas import PreferencesForm
from lps_core.members.services import clean_enrolment, enrol_member, preferences_of, set_preferences
from lps_core.messages import inbox
from lps_core.money import parse_amount
from lps_core.pii import phone_e164, phone_region_of
from lps_core.portal import services
from lps_core.portal.codes import CODE_MINUTES, send_code, use_code
from lps_core.portal.credentials import (
    check_new_password,
    find_member,
    member_may_sign_in,
    secret_matches,
    set_password,
    sign_in_with_password,
)
from lps_core.portal.models import MemberCredential
from lps_core.portal.security import dead_member_cookie, forget_member, remember_language, remember_member
from lps_core.portal.texts import dgettext
from lps_core.rewards.services import points_ratio
from lps_core.timeutil import as_utc, utcnow
from lps_core.validation import validate

TEMPLATES = "lps_core.portal:templates/"
PURPOSES = ("sign_in", "reset", "claim")
CHANNELS = ("sms", "email")
CODE_SENT = dgettext("lps_portal", "If the details belong to a member, a code is on its way. It is valid for "
                                   "${minutes} minutes.", mapping={"minutes": CODE_MINUTES})
CODE_WRONG = dgettext("lps_portal", "The code is not right or has expired: ask for a new one.")


def _t(request, text):
    return request.localizer.translate(text)


def _flash(request, text):
    request.portal_session.flash(_t(request, text))


def _signed_in(request):
    """The signed-in member, or a redirect to the sign-in page (raised)."""
    member = request.portal_member
    if member is None:
        # A cookie whose session ended (signed out elsewhere, idle, password changed) is dropped.
        raise HTTPSeeOther(request.route_url("portal.sign_in", _query={"next": request.path_qs}),
                           headers=dead_member_cookie(request))
    return member


def _audit(request, member_id, action, target, *, before=None, after=None, outlet_id=None):
    """Record a member's write in the audit log, as LPS acting for the member on the portal (the
    log's actors are operators, API keys and LPS itself), in the request's transaction."""
    record(request.dbsession, actor=member_actor(member_id), action=action, target=target, before=before,
           after=after, address=request.client_addr, outlet_id=outlet_id)


def _safe_next(value):
    if isinstance(value, str) and value.startswith("/portal") and not value.startswith("//"):
        return value
    return "/portal"


def _text(request, name, limit=200) -> str:
    value = request.POST.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


@contextmanager
def undone_if_refused(request):
    """Run a form's writes in a savepoint: a refusal part-way undoes them, and the request's
    transaction is doomed, so nothing of a refused request is committed."""
    savepoint = request.dbsession.begin_nested()
    try:
        yield
    except LpsError:
        savepoint.rollback()
        request.tm.doom()
        raise
    savepoint.commit()


def _refused(request, errors, status=400):
    request.response.status = status
    return errors


# --- Sign-in, sign-out ------------------------------------------------------------------------------

@view_config(route_name="portal.sign_in", renderer=TEMPLATES + "sign_in.pt", permission=NO_PERMISSION_REQUIRED)
def sign_in(request):
    next_url = _safe_next(request.params.get("next"))
    form = {"identifier": _text(request, "identifier", 64), "error": None}
    if request.method == "POST":
        password = request.POST.get("password", "")
        if not form["identifier"] or not isinstance(password, str) or not password:
            form["error"] = dgettext("lps_portal", "Give your card or phone number and your password.")
            _refused(request, None)
        else:
            result = sign_in_with_password(request.dbsession, form["identifier"], password[:200],
                                           address=request.client_addr)
            if result.member_id is not None:
                return HTTPSeeOther(next_url, headers=remember_member(request, result.member_id))
            form["error"] = result.error
            request.response.status = 429 if result.throttled else 400
    return {"form": form, "next": next_url}


@view_config(route_name="portal.sign_out", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def sign_out(request):
    return HTTPSeeOther(request.route_url("portal.sign_in"), headers=forget_member(request))


# --- One-time codes: sign in, reset a password, claim a card -----------------------------------------

def _claim_member(db, card_no, contact) -> int | None:
    """The member holding card `card_no` whose phone or e-mail is `contact`, or None."""
    try:
        card_no = normalize_card_no(card_no)
    except ValidationFailed:
        return None
    member = db.execute(select(Member.id, Member.phone, Member.email).join(Card, Card.member_id == Member.id)
                        .where(Card.card_no == card_no, Card.status.in_(("active", "frozen")))).one_or_none()
    if member is None or not contact:
        return None
    phone = phone_e164(contact, phone_region_of(db))
    if phone is not None and member.phone == phone:
        return member.id
    if member.email and member.email.lower() == contact.strip().lower():
        return member.id
    return None


def _code_member(request, purpose, given):
    db = request.dbsession
    if purpose == "claim":
        return _claim_member(db, given.get("card_no", ""), given.get("contact", ""))
    return find_member(db, given.get("identifier", ""))


@view_config(route_name="portal.code", renderer=TEMPLATES + "code.pt", permission=NO_PERMISSION_REQUIRED)
def one_time_code(request):
    purpose = request.matchdict["purpose"]
    if purpose not in PURPOSES:
        raise HTTPNotFound()
    pending = request.portal_session.get("code_for")
    state = {"purpose": purpose, "step": "ask", "errors": {}, "message": None,
             "form": {"identifier": "", "card_no": "", "contact": "", "channel": "sms"}}
    if request.method != "POST":
        return state
    action = request.POST.get("action")
    if action == "send":
        given = {name: _text(request, name, 64) for name in ("identifier", "card_no", "contact")}
        channel = request.POST.get("channel") if purpose != "claim" else (
            "email" if "@" in given["contact"] else "sms")
        state["form"].update(given, channel=channel if channel in CHANNELS else "sms")
        if purpose == "claim":
            missing = {name: dgettext("lps_portal", "is required") for name in ("card_no", "contact")
                       if not given[name]}
        else:
            missing = {"identifier": dgettext("lps_portal", "is required")} if not given["identifier"] else {}
        if channel not in CHANNELS:
            missing["channel"] = dgettext("lps_portal", "choose SMS or e-mail")
        if missing:
            state["errors"] = _refused(request, missing)
            return state
        member_id = _code_member(request, purpose, given)
        send_code(request.dbsession, member_id, purpose, channel, address=request.client_addr,
                  language=request.locale_name)
        request.portal_session["code_for"] = {"purpose": purpose, **given}
        state.update(step="enter", message=CODE_SENT)
        return state
    if action != "verify" or not pending or pending.get("purpose") != purpose:
        state["errors"] = _refused(request, {"code": dgettext("lps_portal", "ask for a code first")})
        return state
    state["step"] = "enter"
    code = _text(request, "code", 20)
    errors = {}
    password = request.POST.get("password", "")
    if purpose != "sign_in":
        errors = check_new_password(password if isinstance(password, str) else "", request.POST.get("confirm", ""))
    if not code:
        errors["code"] = dgettext("lps_portal", "is required")
    if errors:
        state["errors"] = _refused(request, errors)
        return state
    db = request.dbsession
    member_id = _code_member(request, purpose, pending)
    if not use_code(db, member_id, purpose, code, address=request.client_addr):
        state["errors"] = _refused(request, {"code": CODE_WRONG})
        return state
    if purpose != "sign_in":
        set_password(db, member_id, password)
        _audit(request, member_id, "member.edit", ("member", member_id),
               after={"portal_password": "set with a one-time code"})
    problem = member_may_sign_in(db, member_id)
    request.portal_session.pop("code_for", None)
    if problem is not None:
        state.update(step="done", message=problem)
        return state
    headers = remember_member(request, member_id)
    if purpose != "sign_in":
        _flash(request, dgettext("lps_portal", "Your password is set: you are signed in."))
    return HTTPSeeOther(request.route_url("portal.home"), headers=headers)


# --- Applying for membership --------------------------------------------------------------------------

@view_config(route_name="portal.register", renderer=TEMPLATES + "register.pt", permission=NO_PERMISSION_REQUIRED)
def register(request):
    fields = ("name", "phone", "email", "birthday")
    form = {name: _text(request, name) for name in fields}
    state = {"form": form, "errors": {}, "done": False}
    if request.method != "POST":
        return state
    db = request.dbsession
    errors = {}
    data = {"name": form["name"], "channel": "web", **{name: form[name] or None for name in fields[1:]}}
    try:
        enrolment = clean_enrolment(data, phone_region=phone_region_of(db))
    except LpsError as exc:  # the schema's 400s and its 422 when neither phone nor e-mail is given
        errors.update({name: _register_problem(name, form) for name in {field.split(".")[0] for field in exc.fields}})
        enrolment = None
    password = request.POST.get("password", "")
    errors.update(check_new_password(password if isinstance(password, str) else "", request.POST.get("confirm", "")))
    if errors:
        state["errors"] = _refused(request, errors)
        return state
    # Shared numbers are allowed: staff see the duplicate in the approval queue, and the answer is
    # the same whether or not the number belongs to a member already.
    member_id = enrol_member(db, enrolment, force_duplicate_phone=True)
    remember_language(request, member_id)  # the approval or rejection comes in the page's language
    set_password(db, member_id, password)
    _audit(request, member_id, "member.enrol", ("member", member_id),
           after={"name": enrolment.name, "channel": "web", "portal_password": "set"})
    state["done"] = True
    return state


REGISTER_PROBLEMS = {
    "name": dgettext("lps_portal", "give your name, at most 200 characters"),
    "phone": dgettext("lps_portal", "must be a mobile number such as 138 0000 0000 (or +852 9123 4567 from "
                                    "abroad)"),
    "email": dgettext("lps_portal", "must be an e-mail address such as name@example.com"),
    "birthday": dgettext("lps_portal", "must be a date in the past, such as 1990-05-31"),
}


def _register_problem(name, form):
    """What is wrong with a field of the application, in the page's language."""
    if name == "phone" and not form["phone"] and not form["email"]:
        return dgettext("lps_portal", "give a mobile number or an e-mail address")
    return REGISTER_PROBLEMS.get(name, dgettext("lps_portal", "is not valid"))


# --- The member's pages ------------------------------------------------------------------------------

def _page_number(request) -> int:
    try:
        return max(1, min(int(request.params.get("page", 1)), 100_000))
    except ValueError:
        return 1


def _common(request, member) -> dict:
    return {"member": member, "active": request.matched_route.name,
            "unread": inbox.unread_count(request.dbsession, member.id)}


@view_config(route_name="portal.home", renderer=TEMPLATES + "dashboard.pt", permission=NO_PERMISSION_REQUIRED)
def dashboard(request):
    member = _signed_in(request)
    db = request.dbsession
    _, recent = services.ledger_page(db, member.id, per_page=5)
    return {**_common(request, member),
            "balance": services.points_balance(db, member.id),
            "expiring": services.expiring_points(db, member.id),
            "cards": services.member_cards(db, member.id),
            "tier": services.tier_progress(db, request.lps_settings, member.id),
            "recent": recent,
            "reservations": [r for r in services.member_reservations(db, member.id)
                             if r["status"] == "awaiting_pickup"],
            # the last moment a coupon is valid (valid_to is excluded), for its day in the member's zone
            "coupons": [{**coupon_picture(coupon, coupon_type), "until": as_utc(coupon.valid_to) - timedelta(seconds=1)}
                        for coupon, coupon_type in valid_coupons_of(db, member.id, utcnow())]}


@view_config(route_name="portal.points", renderer=TEMPLATES + "points.pt", permission=NO_PERMISSION_REQUIRED)
def points(request):
    member = _signed_in(request)
    page = _page_number(request)
    total, entries = services.ledger_page(request.dbsession, member.id, page)
    pages = max(1, -(-total // services.ENTRIES_PER_PAGE))
    return {**_common(request, member), "entries": entries, "page": page, "pages": pages,
            "balance": services.points_balance(request.dbsession, member.id)}


def _rewards_page(request, member, errors=None):
    db = request.dbsession
    code = db.scalar(select(Tier.code).where(Tier.id == member.tier_id)) if member.tier_id else None
    return {**_common(request, member),
            "balance": services.points_balance(db, member.id),
            "offers": services.reward_offers(db, member.id, code, points_ratio(request.lps_settings)),
            "outlets": services.pickup_outlets(db),
            "reservations": services.member_reservations(db, member.id),
            "request_key": uuid.uuid4().hex, "errors": errors or {}}


@view_config(route_name="portal.rewards", renderer=TEMPLATES + "rewards.pt", permission=NO_PERMISSION_REQUIRED)
def rewards(request):
    member = _signed_in(request)
    if request.method != "POST":
        return _rewards_page(request, member)
    reward, outlet = _text(request, "reward", 32), _text(request, "outlet", 32)
    key = _text(request, "request_key", 40) or uuid.uuid4().hex
    if not reward or not outlet:
        request.response.status = 400
        return _rewards_page(request, member, {"reward": dgettext("lps_portal", "choose a reward and where to "
                                                                               "pick it up")})
    try:
        with undone_if_refused(request):
            made = services.reserve_reward(request.dbsession, member.id, reward, outlet, key,
                                           points_ratio(request.lps_settings), tz=request.programme.timezone)
    except InsufficientBalance:
        request.response.status = 422
        return _rewards_page(request, member, {"reward": dgettext("lps_portal", "You do not have enough points "
                                                                               "for this reward yet.")})
    except LpsError as exc:
        request.response.status = 422
        return _rewards_page(request, member, {"reward": _reserve_problem(exc)})
    if not made.replayed:
        _audit(request, member.id, "redemption.create", ("redemption", made.number),
               after={"reward": made.reward_code, "points": made.points, "outlet": made.outlet_code,
                      "status": made.status})
    _flash(request, dgettext("lps_portal", "Reserved: show number ${number} when you pick it up.",
                             mapping={"number": made.number}))
    return HTTPSeeOther(request.route_url("portal.rewards"))


def _reserve_problem(exc):
    """Why a reservation was refused, in the page's language."""
    fields = exc.fields
    if "quantity" in fields:
        return dgettext("lps_portal", "This reward is out of stock.")
    if str(fields.get("reward", "")).startswith("not for the member's tier"):
        return dgettext("lps_portal", "This reward is not for your tier.")
    if "reward" in fields:
        return dgettext("lps_portal", "This reward is not offered at the moment.")
    if "outlet" in fields:
        return dgettext("lps_portal", "choose a reward and where to pick it up")
    return dgettext("lps_portal", "Your card cannot be used for rewards at the moment: please contact the hotel.")


@view_config(route_name="portal.cancel", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def cancel_reservation(request):
    member = _signed_in(request)
    number = request.matchdict["number"]
    try:
        with undone_if_refused(request):
            cancelled = services.cancel_reservation(request.dbsession, member.id, number)
            _audit(request, member.id, "redemption.cancel", ("redemption", cancelled.number),
                   before={"status": "awaiting_pickup"}, after={"status": cancelled.status,
                                                                "reason": cancelled.cancel_reason})
    except LpsError:
        request.portal_session.flash(_t(request, dgettext("lps_portal", "Reservation ${number} cannot be "
                                                                        "cancelled any more.",
                                                          mapping={"number": number})), "error")
    else:
        _flash(request, dgettext("lps_portal", "Reservation ${number} is cancelled and its points are back.",
                                 mapping={"number": number}))
    return HTTPSeeOther(request.route_url("portal.rewards"))


# --- Profile: preferences, consent, password, a lost card -------------------------------------------------

def _profile_page(request, member, errors=None, form=None):
    db = request.dbsession
    return {**_common(request, member), "preferences": preferences_of(db, member.id),
            "preference_keys": PREFERENCE_KEYS, "consents": _consents(db, member.id),
            "cards": services.member_cards(db, member.id), "errors": errors or {}, "form": form or {}}


def _consents(db, member_id) -> list:
    from lps_core.messages.consent import consents_of

    agreed = consents_of(db, member_id)
    return [(channel, bool(agreed.get(channel))) for channel in CONSENT_CHANNELS]


CONSENT_CHANNELS = ("email", "sms", "inbox")


@view_config(route_name="portal.profile", renderer=TEMPLATES + "profile.pt", permission=NO_PERMISSION_REQUIRED)
def profile(request):
    return _profile_page(request, _signed_in(request))


@view_config(route_name="portal.preferences", request_method="POST", renderer=TEMPLATES + "profile.pt",
             permission=NO_PERMISSION_REQUIRED)
def preferences(request):
    member = _signed_in(request)
    try:
        values = validate(PreferencesForm, {key: request.POST.get(key, "").strip() or None
                                            for key in PREFERENCE_KEYS})
    except ValidationFailed as exc:
        request.response.status = 400
        return _profile_page(request, member, {name.split(".")[0]: message for name, message in exc.fields.items()},
                             {key: request.POST.get(key, "") for key in PREFERENCE_KEYS})
    before, after = set_preferences(request.dbsession, member.id, values)
    if before != after:
        _audit(request, member.id, "member.preferences", ("member", member.id), before=before, after=after)
    _flash(request, dgettext("lps_portal", "Your preferences are saved."))
    return HTTPSeeOther(request.route_url("portal.profile"))


@view_config(route_name="portal.consent", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def consent(request):
    from lps_core.messages.consent import set_consent

    member = _signed_in(request)
    before, after = {}, {}
    for channel in CONSENT_CHANNELS:
        granted = request.POST.get(channel) == "yes"
        before[f"consent_{channel}"] = set_consent(request.dbsession, member.id, channel, granted, source="portal")
        after[f"consent_{channel}"] = granted
    if before != after:
        _audit(request, member.id, "member.edit", ("member", member.id), before=before, after=after)
    _flash(request, dgettext("lps_portal", "Your choices about news and offers are saved."))
    return HTTPSeeOther(request.route_url("portal.profile"))


@view_config(route_name="portal.password", request_method="POST", renderer=TEMPLATES + "profile.pt",
             permission=NO_PERMISSION_REQUIRED)
def change_password(request):
    member = _signed_in(request)
    db = request.dbsession
    current = request.POST.get("current", "")
    password = request.POST.get("password", "")
    stored = db.scalar(select(MemberCredential.password_hash).where(MemberCredential.member_id == member.id))
    errors = {}
    if not secret_matches(stored, current if isinstance(current, str) else ""):
        errors["current"] = dgettext("lps_portal", "is not your current password")
    errors.update(check_new_password(password if isinstance(password, str) else "", request.POST.get("confirm", "")))
    if errors:
        request.response.status = 400
        return _profile_page(request, member, errors)
    set_password(db, member.id, password)
    _audit(request, member.id, "member.edit", ("member", member.id), after={"portal_password": "changed"})
    headers = remember_member(request, member.id)
    _flash(request, dgettext("lps_portal", "Your password has been changed."))
    return HTTPSeeOther(request.route_url("portal.profile"), headers=headers)


@view_config(route_name="portal.lost", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def report_lost(request):
    member = _signed_in(request)
    card_no = _text(request, "card_no", 40)
    try:
        with undone_if_refused(request):
            before, card = services.report_card_lost(request.dbsession, member.id, card_no)
            if before != card.status:
                _audit(request, member.id, "card.status", ("card", card.card_no), before={"status": before},
                       after={"status": card.status, "reason": card.status_reason})
    except LpsError:
        request.portal_session.flash(_t(request, dgettext("lps_portal", "Card ${card} cannot be frozen: please "
                                                                        "call the hotel.",
                                                          mapping={"card": card_no})), "error")
    else:
        _flash(request, dgettext("lps_portal", "Card ${card} is frozen: nobody can use it. The hotel will give "
                                               "you a new one.", mapping={"card": card_no}))
    return HTTPSeeOther(request.route_url("portal.profile"))


# --- Errors ------------------------------------------------------------------------------------------

@exception_view_config(BadCSRFToken, renderer=TEMPLATES + "error.pt", path_info=r"^/portal")
def expired_form(exc, request):
    request.response.status = 400
    return {"member": request.portal_member, "active": None,
            "message": dgettext("lps_portal", "This form has expired. Please go back, reload the page and "
                                              "send it again.")}


@notfound_view_config(renderer=TEMPLATES + "error.pt", path_info=r"^/portal")
def not_found(request):
    request.response.status = 404
    return {"member": None, "active": None, "message": dgettext("lps_portal", "There is no such page.")}


@exception_view_config(Exception, renderer=TEMPLATES + "error.pt", path_info=r"^/portal")
def failed(exc, request):
    if isinstance(exc, HTTPException):
        return exc
    logging.getLogger(__name__).exception("portal request failed: %s", request.path)
    request.response.status = 500
    return {"member": None, "active": None,
            "message": dgettext("lps_portal", "Something went wrong on our side. Please try again in a moment.")}


# --- Inbox: the messages of the portal inbox channel ------------------------------------------------

INBOX_PAGE = 20


@view_config(route_name="portal.inbox", renderer=TEMPLATES + "inbox.pt", permission=NO_PERMISSION_REQUIRED)
def inbox_page(request):
    """The member's portal inbox, newest first; what it shows is marked read (and shown as new once)."""
    member = _signed_in(request)
    page = _page_number(request)
    total, messages = inbox.inbox_of(request.dbsession, member.id, page=page, per_page=INBOX_PAGE)
    shown = [{"subject": message.subject, "body": message.body, "sent_at": message.sent_at,
              "new": message.read_at is None} for message in messages]
    inbox.mark_read(request.dbsession, member.id, [message.id for message in messages if message.read_at is None])
    return {**_common(request, member), "messages": shown, "page": page,
            "pages": max(1, -(-total // INBOX_PAGE))}


# --- Appeals: "bill X at outlet Y on date Z is missing or wrong" -------------------------------------------

def _appeals_page(request, member, errors=None, form=None):
    db = request.dbsession
    return {**_common(request, member), "appeals": member_appeals(db, member.id),
            "outlets": services.pickup_outlets(db), "errors": errors or {},
            "form": form or {"outlet": "", "bill_no": "", "bill_date": "", "amount": "", "note": ""},
            "request_key": uuid.uuid4().hex}


def _appeal_problem(field, message):
    """The appeals service's word on a field, in the page's language where it is one LPS knows."""
    known = {
        ("bill_date", "must not be in the future"): dgettext("lps_portal", "must not be in the future"),
        ("bill_no", "an appeal about this bill is already open"):
            dgettext("lps_portal", "an appeal about this bill is already waiting for an answer"),
        ("outlet", "no such outlet"): dgettext("lps_portal", "choose where the bill was paid"),
        ("receipt", "is empty"): dgettext("lps_portal", "the photo is empty"),
        ("receipt", "must be a JPEG, PNG, WebP or HEIC photo"):
            dgettext("lps_portal", "must be a JPEG, PNG, WebP or HEIC photo"),
        ("member", "is not an active member"): dgettext("lps_portal", "Your membership is not active: please "
                                                                      "contact the hotel."),
    }
    if (field, message) in known:
        return known[field, message]
    if field == "bill_date" and message.startswith("must be on or after "):
        return dgettext("lps_portal", "is too long ago: bills before ${date} can no longer be appealed",
                        mapping={"date": message.removeprefix("must be on or after ")})
    if field == "receipt" and message.startswith("must be at most "):
        return dgettext("lps_portal", "the photo is too large: at most ${size}",
                        mapping={"size": message.removeprefix("must be at most ")})
    return message


@view_config(route_name="portal.appeals", renderer=TEMPLATES + "appeals.pt", permission=NO_PERMISSION_REQUIRED)
def appeals(request):
    member = _signed_in(request)
    if request.method != "POST":
        return _appeals_page(request, member)
    form = {name: _text(request, name, 500 if name == "note" else 64)
            for name in ("outlet", "bill_no", "bill_date", "amount", "note")}
    errors = {name: dgettext("lps_portal", "is required") for name in ("outlet", "bill_no", "bill_date", "amount")
              if not form[name]}
    bill_date = amount = None
    if form["bill_date"] and "bill_date" not in errors:
        try:
            bill_date = date.fromisoformat(form["bill_date"])
        except ValueError:
            errors["bill_date"] = dgettext("lps_portal", "must be a date such as 2026-11-25")
    if form["amount"]:
        try:
            amount = parse_amount(form["amount"])
        except ValueError:
            errors["amount"] = dgettext("lps_portal", "must be an amount such as 268.00")
    receipt = None
    upload = request.POST.get("receipt")
    if getattr(upload, "file", None) is not None:
        appeal_settings = AppealSettings.from_mapping(request.registry.settings)
        content = upload.file.read(appeal_settings.receipt_max_bytes + 1)
        if content:
            receipt = Receipt(content, getattr(upload, "filename", None))
    if errors:
        request.response.status = 400
        return _appeals_page(request, member, errors, form)
    filing = Filing(member_id=member.id, outlet_code=form["outlet"], bill_no=form["bill_no"], bill_date=bill_date,
                    amount_cents=amount, note=form["note"] or None, receipt=receipt,
                    request_key=_text(request, "request_key", 40) or None)
    try:
        with undone_if_refused(request):
            appeal, _ = file_by_member(request.dbsession, request.programme,
                                       AppealSettings.from_mapping(request.registry.settings), filing,
                                       address=request.client_addr)
    except LpsError as exc:
        request.response.status = exc.status
        problems = {name if name in form or name == "receipt" else "form": _appeal_problem(name, str(message))
                    for name, message in exc.fields.items()}
        return _appeals_page(request, member, problems or {"form": exc.message}, form)
    _flash(request, dgettext("lps_portal", "Appeal ${number} is filed: we will tell you the answer by message.",
                             mapping={"number": appeal.id}))
    return HTTPSeeOther(request.route_url("portal.appeals"))
