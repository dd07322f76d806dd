"""Member screens: search, the member page and its actions, enrolment at the desk and the approval
queue. Views parse the form, check the operator's outlet scope, call lps_core.members.services (or
the card and ledger services), audit the write and redirect; a refused form is shown again with the
message beside each field and the HTTP status of the error."""
import uuid
from contextlib import contextmanager

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.cards import lifecycle
from lps_core.cards.models import Card, CardType
from lps_core.errors import LpsError, NotFound
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.members import search, services
from lps_core.members.models import (
    CONTACT_CHANNELS,
    GENDERS,
    PREFERENCE_KEYS,
    ContactLogEntry,
    FamilyMember,
    Member,
    Tier,
)
from lps_core.members.schemas import (
    ENROL_FIELDS,
    PROFILE_FIELDS,
    AdjustmentForm,
    ApprovalIn,
    CardReplacementForm,
    CardStatusForm,
    ContactForm,
    FamilyMemberForm,
    MemberPath,
    OutletForm,
    PreferencesForm,
    RejectionForm,
    enrolment_form,
    read_form,
    search_query,
)
from lps_core.messages.consent import consents_of
from lps_core.messages.inbox import delivery_log
from lps_core.operators.access import MEMBER_ELSEWHERE, may_write_member
from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Outlet
from lps_core.pii import phone_region_of
from lps_core.screens.members import texts
from lps_core.screens.config.config_messages import EVENT_LABELS, STATUS_LABELS, channel_label
from lps_core.screens.shared import audit, chosen_outlet, flash, outlets_in_scope
from lps_core.screens.shell.lists import paginate
from lps_core.screens.shell.security import outlet_scope, require_outlet
from lps_core.tiers.services import member_tier_status
from lps_core.validation import validate

TEMPLATES = "lps_core.screens.members:templates/"
ENTRIES_PER_CARD_ACCOUNT = 10


# --- Helpers of the member screens --------------------------------------------------------------

def _outlet_id(request, code, required=None) -> int | None:
    """The id of the outlet a form picked (shared.chosen_outlet), None for head office."""
    outlet = chosen_outlet(request, code, field="outlet", required=required, message=texts.OUTLET_REQUIRED)
    return None if outlet is None else outlet.id


def _path_id(request, name="id") -> int:
    """An id of the URL, checked as the API checks it (MemberPath): one beyond the column is not found."""
    try:
        return validate(MemberPath, {"id": request.matchdict[name]}).id
    except LpsError:
        raise HTTPNotFound() from None


def _member(request, name="id") -> Member:
    member = request.dbsession.get(Member, _path_id(request, name))
    if member is None:
        raise HTTPNotFound()
    return member


def _member_to_change(request) -> Member:
    """The member of the URL, if the operator may change them: every outlet serves a member, but
    only their enrolment outlet's staff and programme-wide staff change their profile, family,
    cards or points (lps_core.operators.access.may_write_member, which the API asks too)."""
    member = _member(request)
    if not may_write_member(request.identity, member.enrolled_outlet_id):
        raise HTTPForbidden(MEMBER_ELSEWHERE)
    return member


def _fields(exc: LpsError, known, rename=None) -> dict:
    """The error's field messages under the form's own field names; any other goes under 'form'."""
    errors = {}
    for field, message in exc.fields.items():
        field = (rename or {}).get(field, field)
        if field in known:
            errors[field] = message
        else:
            errors["form"] = message
    return errors or {"form": exc.message}


def _refused(request, exc):
    request.response.status = exc.status
    request.tm.doom()


@contextmanager
def undone_if_refused(request):
    """Run a form's writes in a savepoint: a refusal part-way (a card reported lost, then no new
    card to give) undoes them, so the page shown again and the database tell the truth. The
    request's transaction is doomed too, so nothing of a refused request is ever committed."""
    savepoint = request.dbsession.begin_nested()
    try:
        yield
    except LpsError:
        savepoint.rollback()
        request.tm.doom()
        raise
    savepoint.commit()


# --- Search ----------------------------------------------------------------------------------------

@view_config(route_name="members", renderer=TEMPLATES + "search.pt", permission=Permission.MEMBERS_VIEW)
def member_search(request):
    db = request.dbsession
    query, errors = search_query(request.params)
    criteria = search.clean_criteria(query, request.programme.timezone, phone_region_of(db))
    errors = {**errors, **criteria.errors}
    params = {name: request.params.get(name, "") for name in search.CRITERIA}
    page = paginate(db, request, search.member_search(criteria.values), search.SORTS, "name", params=params)
    if errors:
        request.response.status = 400
    return {
        "page": page, "form": params, "errors": errors,
        "searched": bool(criteria.values),
        "tiers": db.execute(select(Tier.code, Tier.name).where(Tier.retired_at.is_(None)).order_by(Tier.rank)).all(),
        "card_types": db.execute(select(CardType.code, CardType.name).order_by(CardType.code)).all(),
        "outlets": db.execute(select(Outlet.code, Outlet.name).order_by(Outlet.code)).all(),
    }


# --- The member page -------------------------------------------------------------------------------

def member_page(request, member, errors=None, form=None) -> dict:
    """Everything the member page shows; `errors` and `form` (by form name) re-fill a refused form."""
    db = request.dbsession
    cards = db.scalars(select(Card).where(Card.member_id == member.id).order_by(Card.id)).all()
    accounts = db.execute(select(Account).where(Account.card_id.in_([card.id for card in cards]))
                          .order_by(Account.card_id, Account.kind)).scalars().all() if cards else []
    card_accounts = {}
    for account in accounts:
        entries = db.execute(select(LedgerEntry).where(LedgerEntry.account_id == account.id)
                             .order_by(LedgerEntry.id.desc()).limit(ENTRIES_PER_CARD_ACCOUNT)).scalars().all()
        card_accounts.setdefault(account.card_id, []).append((account, entries))
    points_account = db.scalar(select(Account).where(Account.member_id == member.id, Account.kind == POINTS))
    ledger = paginate(
        db, request,
        select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.balance_after,
               LedgerEntry.occurred_at, LedgerEntry.note, LedgerEntry.breakdown, Outlet.code.label("outlet"))
        .outerjoin(Outlet, Outlet.id == LedgerEntry.outlet_id)
        .where(LedgerEntry.account_id == (points_account.id if points_account else -1)),
        {"date": LedgerEntry.id, "points": LedgerEntry.amount}, "date", descending=True)
    return {
        "member": member,
        "may_change": may_write_member(request.identity, member.enrolled_outlet_id),
        "tier_status": member_tier_status(db, request.lps_settings, member.id),
        "cards": cards,
        "card_accounts": card_accounts,
        "points_balance": points_account.balance if points_account else 0,
        "page": ledger,
        "family": db.execute(select(FamilyMember).where(FamilyMember.member_id == member.id)
                             .order_by(FamilyMember.id)).scalars().all(),
        "preferences": services.preferences_of(db, member.id),
        "preference_keys": PREFERENCE_KEYS,
        "contacts": db.execute(select(ContactLogEntry).where(ContactLogEntry.member_id == member.id)
                               .order_by(ContactLogEntry.contacted_at.desc(), ContactLogEntry.id.desc())
                               .limit(200)).scalars().all(),
        "contact_channels": CONTACT_CHANNELS,
        "outlets": outlets_in_scope(request),
        "adjust_key": uuid.uuid4().hex,
        "enrolled_at": db.scalar(select(Outlet.code).where(Outlet.id == member.enrolled_outlet_id))
        if member.enrolled_outlet_id else None,
        "errors": errors or {},
        "form": form or {},
        "deliveries": delivery_log(db, member.id),
        "consents": consents_of(db, member.id),
        "message_labels": (EVENT_LABELS, STATUS_LABELS, channel_label),
    }


@view_config(route_name="members.view", renderer=TEMPLATES + "member.pt", permission=Permission.MEMBERS_VIEW)
def member_view(request):
    return member_page(request, _member(request))


@view_config(route_name="members.edit", renderer=TEMPLATES + "edit.pt", permission=Permission.MEMBERS_EDIT)
def member_edit(request):
    member = _member_to_change(request)
    db = request.dbsession
    form = {field: ("" if value is None else str(value))
            for field, value in services.profile_of(db, member.id).items()}
    errors = {}
    if request.method == "POST":
        form = {field: request.POST.get(field, "") for field in PROFILE_FIELDS}
        try:
            # The enrolment's rules; an empty optional field clears its value.
            profile = services.clean_enrolment(enrolment_form(request.POST, PROFILE_FIELDS),
                                               phone_region=phone_region_of(db))
            before, after = services.update_profile(db, member.id, profile)
        except LpsError as exc:
            errors = _fields(exc, PROFILE_FIELDS)
            _refused(request, exc)
        else:
            if after:
                audit(request, "member.edit", ("member", member.id), before=before, after=after,
                      outlet_id=member.enrolled_outlet_id)
            flash(request, texts.SAVED)
            return HTTPSeeOther(request.route_url("members.view", id=member.id))
    return {"member": member, "form": form, "errors": errors, "genders": GENDERS}


def _refill(request, member, name, exc, known, rename=None):
    """The member page again, with form `name` re-filled and its errors beside the fields."""
    _refused(request, exc)
    return member_page(request, member, errors={name: _fields(exc, known, rename)}, form={name: request.POST})


def _members_card(request, member) -> Card:
    card_no = request.matchdict["card_no"]
    card = request.dbsession.scalar(select(Card).where(Card.card_no == card_no, Card.member_id == member.id)) \
        if card_no.isascii() and card_no.isalnum() and len(card_no) <= 32 else None
    if card is None:
        raise HTTPNotFound()
    return card


@view_config(route_name="members.card_status", request_method="POST", renderer=TEMPLATES + "member.pt",
             permission=Permission.CARDS_MANAGE)
def card_status(request):
    member = _member_to_change(request)
    card = _members_card(request, member)
    old_status = card.status
    try:
        wanted = read_form(CardStatusForm, request.POST)
        lifecycle.change_status(request.dbsession, card.card_no, wanted.status, wanted.reason)
    except LpsError as exc:
        return _refill(request, member, f"card:{card.card_no}", exc, ("status", "reason"))
    audit(request, "card.status", ("card", card.card_no), before={"status": old_status},
          after={"status": wanted.status, "reason": wanted.reason})
    flash(request, texts.CARD_CHANGED)
    return HTTPSeeOther(request.route_url("members.view", id=member.id))


@view_config(route_name="members.card_replace", request_method="POST", renderer=TEMPLATES + "member.pt",
             permission=Permission.CARDS_MANAGE)
def card_replace(request):
    """Report a card lost (if it is not already) and give the member a new one in its place."""
    member = _member_to_change(request)
    card = _members_card(request, member)
    name = f"replace:{card.card_no}"
    old_status = card.status
    db = request.dbsession
    try:
        wanted = read_form(CardReplacementForm, request.POST)
        reason = wanted.reason
        outlet_id = _outlet_id(request, wanted.outlet)
        with undone_if_refused(request):
            if card.status in ("active", "frozen"):
                lifecycle.change_status(db, card.card_no, "lost", reason)
            new_card = lifecycle.replace_card(db, card.card_no, reason, new_card_no=wanted.new_card_no,
                                              outlet_id=outlet_id)
    except LpsError as exc:
        return _refill(request, member, name, exc, ("reason", "new_card_no", "outlet"), {"card_no": "new_card_no"})
    audit(request, "card.replace", ("card", card.card_no), before={"card_no": card.card_no, "status": old_status},
          after={"card_no": new_card.card_no, "old_card_status": "replaced", "reason": reason}, outlet_id=outlet_id)
    flash(request, texts.CARD_REPLACED)
    return HTTPSeeOther(request.route_url("members.view", id=member.id))


@view_config(route_name="members.adjust", request_method="POST", renderer=TEMPLATES + "member.pt",
             permission=Permission.POINTS_ADJUST)
def adjust(request):
    member = _member_to_change(request)
    try:
        # "+500" reads as 500: staff type the sign of an addition too.
        raw = request.POST.get("points")
        wanted = read_form(AdjustmentForm, {**request.POST, "points": raw.strip().removeprefix("+")}
                      if isinstance(raw, str) else request.POST)
        outlet_id = _outlet_id(request, wanted.outlet)
        with undone_if_refused(request):
            posting = services.adjust_points(
                request.dbsession, request.programme, member.id, wanted.points, wanted.reason,
                request_key=wanted.request_key or uuid.uuid4().hex, outlet_id=outlet_id)
    except LpsError as exc:
        return _refill(request, member, "adjust", exc, ("points", "reason", "outlet"), {"amount": "points"})
    if not posting.replayed:
        audit(request, "points.adjust", ("member", member.id),
              before={"points_balance": posting.balance_after - posting.amount},
              after={"points_balance": posting.balance_after, "points": posting.amount, "reason": wanted.reason,
                     "entry_id": posting.entry_id}, outlet_id=outlet_id)
    flash(request, texts.ADJUSTED)
    return HTTPSeeOther(request.route_url("members.view", id=member.id))


@view_config(route_name="members.contact", request_method="POST", renderer=TEMPLATES + "member.pt",
             permission=Permission.MEMBERS_EDIT)
def add_contact(request):
    member = _member(request)
    try:
        contact = read_form(ContactForm, request.POST)
        contact_id = services.add_contact(request.dbsession, member.id, contact.channel, contact.note,
                                          operator_id=request.identity.id,
                                          operator_name=request.identity.display_name)
    except LpsError as exc:
        return _refill(request, member, "contact", exc, ("channel", "note"))
    audit(request, "member.contact", ("member", member.id),
          after={"contact_id": contact_id, "channel": contact.channel, "note": contact.note})
    flash(request, texts.CONTACT_ADDED)
    return HTTPSeeOther(request.route_url("members.view", id=member.id, _anchor="contacts"))


@view_config(route_name="members.family", request_method="POST", renderer=TEMPLATES + "member.pt",
             permission=Permission.MEMBERS_EDIT)
def add_family(request):
    member = _member_to_change(request)
    try:
        added = services.add_family_member(request.dbsession, member.id, read_form(FamilyMemberForm, request.POST))
    except LpsError as exc:
        return _refill(request, member, "family", exc, ("name", "relation", "birthday"))
    audit(request, "member.family.add", ("member", member.id), after={"family": added})
    flash(request, texts.FAMILY_ADDED)
    return HTTPSeeOther(request.route_url("members.view", id=member.id, _anchor="family"))


@view_config(route_name="members.family_remove", request_method="POST", permission=Permission.MEMBERS_EDIT)
def remove_family(request):
    member = _member_to_change(request)
    try:
        removed = services.remove_family_member(request.dbsession, member.id, _path_id(request, "family_id"))
    except NotFound:
        raise HTTPNotFound() from None
    audit(request, "member.family.remove", ("member", member.id), before={"family": removed})
    flash(request, texts.FAMILY_REMOVED)
    return HTTPSeeOther(request.route_url("members.view", id=member.id, _anchor="family"))


@view_config(route_name="members.preferences", request_method="POST", renderer=TEMPLATES + "member.pt",
             permission=Permission.MEMBERS_EDIT)
def preferences(request):
    member = _member(request)
    try:
        before, after = services.set_preferences(request.dbsession, member.id, read_form(PreferencesForm, request.POST))
    except LpsError as exc:
        return _refill(request, member, "preferences", exc, PREFERENCE_KEYS)
    if after:
        audit(request, "member.preferences", ("member", member.id), before=before, after=after)
    flash(request, texts.SAVED)
    return HTTPSeeOther(request.route_url("members.view", id=member.id, _anchor="preferences"))


# --- Enrolment and approval ------------------------------------------------------------------------

@view_config(route_name="members.enrol", renderer=TEMPLATES + "enrol.pt", permission=Permission.MEMBERS_ENROL)
def enrol(request):
    outlets = outlets_in_scope(request)
    form = {field: "" for field in (*ENROL_FIELDS, "outlet")}
    form["outlet"] = outlets[0].code if len(outlets) == 1 else ""
    errors, duplicates = {}, []
    if request.method == "POST":
        form = {field: request.POST.get(field, "") for field in form}
        # Ticked only after the warning below: staff checked it is another person sharing the number.
        force = request.POST.get("force_duplicate_phone") == "on"
        try:
            outlet_id = _outlet_id(request, read_form(OutletForm, request.POST).outlet, required=True)
            enrolment = services.clean_enrolment(enrolment_form(request.POST),
                                                 phone_region=phone_region_of(request.dbsession))
            member_id = services.enrol_member(request.dbsession, enrolment, outlet_id, force_duplicate_phone=force)
        except LpsError as exc:
            errors = _fields(exc, (*ENROL_FIELDS, "outlet"))
            duplicates = exc.existing if isinstance(exc, services.DuplicatePhone) else []
            _refused(request, exc)
        else:
            audit(request, "member.enrol", ("member", member_id),
                  after={"name": enrolment.name, "channel": "desk", "status": "pending"}, outlet_id=outlet_id)
            flash(request, texts.ENROLLED)
            return HTTPSeeOther(request.route_url("members.view", id=member_id))
    return {"form": form, "errors": errors, "outlets": outlets, "genders": GENDERS, "duplicates": duplicates}


def approvals_page(request, errors=None) -> dict:
    db = request.dbsession
    query = (select(Member.id, Member.name, Member.channel, Member.email, Member.created_at,
                    Outlet.code.label("outlet"))
             .outerjoin(Outlet, Outlet.id == Member.enrolled_outlet_id).where(Member.status == "pending"))
    scope = outlet_scope(request)
    if scope is not None:
        query = query.where(Member.enrolled_outlet_id.in_(sorted(scope)))
    name = (request.params.get("name") or "").strip()
    channel = request.params.get("channel") or ""
    if name:
        query = query.where(Member.name.ilike(f"%{name}%"))
    if channel in ("desk", "web"):
        query = query.where(Member.channel == channel)
    sorts = {"enrolled": Member.created_at, "name": Member.name, "channel": Member.channel}
    page = paginate(db, request, query, sorts, "enrolled", params={"name": name, "channel": channel})
    shown = {row.id for row in page.items}
    return {
        "page": page,
        # An enrolment no longer in the list (approved meanwhile by someone else) has its message on top.
        "other_errors": [message for member_id, fields in (errors or {}).items() if member_id not in shown
                         for message in fields.values()],
        "search": {"name": name, "channel": channel},
        "card_types": db.execute(select(CardType.code, CardType.name)
                                 .where(CardType.active.is_(True), CardType.anonymous.is_(False))
                                 .order_by(CardType.id)).all(),
        "errors": errors or {},
    }


@view_config(route_name="members.approvals", renderer=TEMPLATES + "approvals.pt",
             permission=Permission.MEMBERS_APPROVE)
def approvals(request):
    return approvals_page(request)


def _pending_member_in_scope(request) -> Member:
    member = _member(request)
    if member.enrolled_outlet_id is None:
        # A web enrolment belongs to no outlet: the group's staff approve it.
        if not request.identity.all_outlets:
            raise HTTPForbidden("web enrolments are approved by staff of the whole group")
    else:
        require_outlet(request, member.enrolled_outlet_id)
    return member


@view_config(route_name="members.approve", request_method="POST", renderer=TEMPLATES + "approvals.pt",
             permission=Permission.MEMBERS_APPROVE)
def approve(request):
    member = _pending_member_in_scope(request)
    try:
        card_type = read_form(ApprovalIn, request.POST).card_type  # the API's approval body
        with undone_if_refused(request):
            card_no = services.approve_member(
                request.dbsession, member.id, card_type_code=card_type,
                issuance=request.lps_settings.card_issuance, programme=request.programme,
                plugins=request.plugins)
    except LpsError as exc:
        _refused(request, exc)
        return approvals_page(request, {member.id: _fields(exc, ("card_type", "reason"))})
    audit(request, "member.approve", ("member", member.id), before={"status": "pending"},
          after={"status": "active", "card_no": card_no, "card_type": card_type}, outlet_id=member.enrolled_outlet_id)
    flash(request, texts.APPROVED)
    return HTTPSeeOther(request.route_url("members.approvals"))


@view_config(route_name="members.reject", request_method="POST", renderer=TEMPLATES + "approvals.pt",
             permission=Permission.MEMBERS_APPROVE)
def reject(request):
    member = _pending_member_in_scope(request)
    try:
        reason = read_form(RejectionForm, request.POST).reason
        services.reject_member(request.dbsession, member.id, reason)
    except LpsError as exc:
        _refused(request, exc)
        return approvals_page(request, {member.id: _fields(exc, ("card_type", "reason"))})
    audit(request, "member.reject", ("member", member.id), before={"status": "pending"},
          after={"status": "rejected", "reason": reason}, outlet_id=member.enrolled_outlet_id)
    flash(request, texts.REJECTED)
    return HTTPSeeOther(request.route_url("members.approvals"))
