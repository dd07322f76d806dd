"""Appeal screens. Views read the form through lps_core.appeals.schemas, check the operator's outlet
scope, call lps_core.appeals.services (which audits each action and queues the member's message)
and redirect; a refused form is shown again with the message beside each field and the HTTP status
of the error.

Permissions: the queue and an appeal are read with members.view; filing on a member's behalf needs
members.edit; approving and rejecting, which post points, need points.adjust."""
import uuid
from datetime import datetime, time

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.appeals import services
from lps_core.appeals.models import BY_STAFF, STATUSES, Appeal
from lps_core.appeals.schemas import AppealForm, AppealSearchForm, ApproveForm, RejectForm
from lps_core.cards.models import Card
from lps_core.earning.models import Bill
from lps_core.errors import LpsError, ValidationFailed
from lps_core.members.models import Member
from lps_core.members.schemas import MemberPath, read_form
from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Outlet
from lps_core.screens.appeals import texts
from lps_core.screens.shared import actor, chosen_outlet, flash, form_errors, outlets_in_scope
from lps_core.screens.shell.lists import paginate
from lps_core.screens.shell.security import outlet_scope, require_outlet
from lps_core.timeutil import utcnow
from lps_core.validation import validate

TEMPLATES = "lps_core.screens.appeals:templates/"
ANY = "any"
FORM_FIELDS = ("outlet", "bill_no", "bill_date", "amount", "card_no", "note", "receipt")


def _settings(request) -> services.AppealSettings:
    return services.AppealSettings.from_mapping(request.registry.settings)


def _path_id(request, name="id") -> int:
    try:
        return validate(MemberPath, {"id": request.matchdict[name]}).id
    except LpsError:
        raise HTTPNotFound() from None


def _appeal(request) -> Appeal:
    """The appeal of the URL; 403 when its outlet is outside the operator's scope."""
    appeal = request.dbsession.get(Appeal, _path_id(request))
    if appeal is None:
        raise HTTPNotFound()
    require_outlet(request, appeal.outlet_id)
    return appeal


def _refused(request, exc):
    request.response.status = exc.status
    request.tm.doom()


def _errors(exc: LpsError, known) -> dict:
    errors = {}
    for field, message in form_errors(exc.fields).items():
        errors[field if field in known else "form"] = message
    return errors or {"form": exc.message}


# --- The queue ----------------------------------------------------------------------------------

@view_config(route_name="appeals", renderer=TEMPLATES + "queue.pt", permission=Permission.MEMBERS_VIEW)
def queue(request):
    db = request.dbsession
    raw = {name: request.params.get(name, "") for name in AppealSearchForm.model_fields}
    if "status" not in request.params:
        raw["status"] = "open"  # the queue: what waits for an answer; "any" shows every status
    errors = {}
    try:
        search = read_form(AppealSearchForm, {**raw, "status": "" if raw["status"] == ANY else raw["status"]}).search()
    except LpsError as exc:
        errors = _errors(exc, AppealSearchForm.model_fields)
        request.response.status = exc.status
        search = services.Search(status="open")
    query = services.search_query(search, outlet_scope(request))
    sorts = {"due": Appeal.due_at, "bill_date": Appeal.bill_date, "filed": Appeal.created_at,
             "outlet": Outlet.code, "status": Appeal.status}
    page = paginate(db, request, query, sorts, "due", params=raw)
    return {"page": page, "search": raw, "errors": errors, "statuses": STATUSES, "now": utcnow(),
            "outlets": outlets_in_scope(request), "overdue": services.is_overdue,
            "members": _names(db, {row.Appeal.member_id for row in page.items})}


def _names(db, member_ids) -> dict:
    if not member_ids:
        return {}
    return dict(db.execute(select(Member.id, Member.name).where(Member.id.in_(sorted(member_ids)))).all())


# --- One appeal -----------------------------------------------------------------------------------

def appeal_page(request, appeal, errors=None, form=None) -> dict:
    db = request.dbsession
    bill = db.get(Bill, appeal.bill_id) if appeal.bill_id else None
    posted = bill or db.scalar(select(Bill).where(Bill.outlet_id == appeal.outlet_id, Bill.bill_no == appeal.bill_no))
    return {"appeal": appeal, "member": db.get(Member, appeal.member_id), "outlet": db.get(Outlet, appeal.outlet_id),
            "card": db.get(Card, appeal.card_id) if appeal.card_id else None, "bill": bill, "posted": posted,
            "overdue": services.is_overdue(appeal), "errors": errors or {}, "form": form or {},
            "may_resolve": request.has_permission(Permission.POINTS_ADJUST)}


@view_config(route_name="appeals.view", renderer=TEMPLATES + "appeal.pt", permission=Permission.MEMBERS_VIEW)
def appeal_view(request):
    return appeal_page(request, _appeal(request))


@view_config(route_name="appeals.receipt", permission=Permission.MEMBERS_VIEW)
def receipt(request):
    appeal = _appeal(request)
    photo = services.receipt_of(appeal, _settings(request))
    if photo is None:
        raise HTTPNotFound()
    content, content_type = photo
    response = Response(body=content, content_type=content_type)
    response.headers["Content-Disposition"] = f'inline; filename="appeal-{appeal.id}{services.RECEIPT_TYPES[content_type]}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control = "private, no-store"
    return response


@view_config(route_name="appeals.approve", request_method="POST", renderer=TEMPLATES + "appeal.pt",
             permission=Permission.POINTS_ADJUST)
def approve(request):
    appeal = _appeal(request)
    try:
        wanted = read_form(ApproveForm, request.POST)
        approval = services.Approval(_time_on(appeal, wanted.occurred_at, request.programme.timezone),
                                     wanted.amount, wanted.note)
        savepoint = request.dbsession.begin_nested()
        try:
            services.approve_appeal(request.dbsession, request.plugins, request.programme, appeal.id, approval,
                                    actor=actor(request), operator_id=request.identity.id,
                                    outlet_ids=outlet_scope(request), address=request.client_addr)
        except LpsError:
            savepoint.rollback()
            raise
        savepoint.commit()
    except LpsError as exc:
        _refused(request, exc)
        request.dbsession.refresh(appeal)
        return appeal_page(request, appeal, {"approve": _errors(exc, ("occurred_at", "amount", "note"))},
                           {name: request.POST.get(name, "") for name in ("occurred_at", "amount", "note")})
    flash(request, texts.APPROVED)
    return HTTPSeeOther(request.route_url("appeals.view", id=appeal.id))


def _time_on(appeal, raw, tz) -> datetime | None:
    """The bill's time of day (HH:MM) typed on the form, on the bill's date where the programme is."""
    if not raw:
        return None
    try:
        moment = time.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("the bill's time is not a time of day", {"occurred_at": texts.TIME_OF_DAY}) from None
    return datetime.combine(appeal.bill_date, moment, tzinfo=tz)


@view_config(route_name="appeals.reject", request_method="POST", renderer=TEMPLATES + "appeal.pt",
             permission=Permission.POINTS_ADJUST)
def reject(request):
    appeal = _appeal(request)
    try:
        reason = read_form(RejectForm, request.POST).reason
        services.reject_appeal(request.dbsession, appeal.id, reason, actor=actor(request),
                               operator_id=request.identity.id, outlet_ids=outlet_scope(request),
                               address=request.client_addr)
    except LpsError as exc:
        _refused(request, exc)
        return appeal_page(request, appeal, {"reject": _errors(exc, ("reason",))},
                           {"reason": request.POST.get("reason", "")})
    flash(request, texts.REJECTED)
    return HTTPSeeOther(request.route_url("appeals.view", id=appeal.id))


# --- Filing on a member's behalf ----------------------------------------------------------------

def _member_of_query(request) -> Member:
    """The member of ?member=ID; without one, the member search, where the member's page has the
    button that opens an appeal for them."""
    if not request.params.get("member"):
        raise HTTPSeeOther(request.route_url("members"))
    try:
        member_id = validate(MemberPath, {"id": request.params.get("member", "")}).id
    except LpsError:
        raise HTTPNotFound() from None
    member = request.dbsession.get(Member, member_id)
    if member is None:
        raise HTTPNotFound()
    return member


def _new_page(request, member, errors=None, form=None) -> dict:
    cards = request.dbsession.scalars(select(Card).where(Card.member_id == member.id).order_by(Card.id.desc())).all()
    return {"member": member, "cards": cards, "outlets": outlets_in_scope(request), "errors": errors or {},
            "form": form or {"request_key": uuid.uuid4().hex}, "max_kib": _settings(request).receipt_max_bytes // 1024}


@view_config(route_name="appeals.new", renderer=TEMPLATES + "new.pt", permission=Permission.MEMBERS_EDIT)
def new_appeal(request):
    member = _member_of_query(request)
    if request.method != "POST":
        return _new_page(request, member)
    form = {name: request.POST.get(name, "") for name in (*FORM_FIELDS, "request_key") if name != "receipt"}
    try:
        wanted = read_form(AppealForm, {name: value for name, value in form.items()})
        outlet = chosen_outlet(request, wanted.outlet, field="outlet", required=True, message=texts.OUTLET_REQUIRED)
        settings = _settings(request)
        appeal, _ = services.file_appeal(
            request.dbsession, request.programme, settings,
            services.Filing(member.id, outlet.code, wanted.bill_no, wanted.bill_date, wanted.amount, wanted.note,
                            wanted.card_no, _uploaded(request.POST.get("receipt"), settings),
                            wanted.request_key),
            opened_by=BY_STAFF, actor=actor(request), operator_id=request.identity.id,
            outlet_ids=outlet_scope(request), address=request.client_addr)
    except LpsError as exc:
        _refused(request, exc)
        return _new_page(request, member, _errors(exc, FORM_FIELDS), form)
    flash(request, texts.FILED)
    return HTTPSeeOther(request.route_url("appeals.view", id=appeal.id))


def _uploaded(field, settings) -> services.Receipt | None:
    """The uploaded receipt photo, read no further than one byte past the size allowed."""
    if field is None or isinstance(field, str) or not getattr(field, "file", None):
        return None
    content = field.file.read(settings.receipt_max_bytes + 1)
    if not content and not field.filename:
        return None
    return services.Receipt(content, field.filename)
