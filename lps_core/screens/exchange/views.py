"""Exchange screens. Views read the form through lps_core.exchange.schemas, check the operator's
outlet scope, call lps_core.exchange services (the resolution audits itself) and redirect; a
refused form is shown again with the message beside each field and the HTTP status of the error.

Permissions: the lists, a transfer, the report and a mismatch are read with reports.view (only the
transfers of the operator's outlets, and for an operator of some outlets only the mismatches of
their transfers); asking the partner again about a transfer, running a reconciliation and
resolving a mismatch may post points, so they need points.adjust, and running a reconciliation,
which covers every outlet, an operator of every outlet."""
from datetime import date, datetime, time, timedelta

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.cards.models import Card
from lps_core.errors import LpsError
from lps_core.exchange import reconciliation, services
from lps_core.exchange.models import (
    MISMATCH_STATUSES,
    OPEN_STATUSES,
    PROBLEMS,
    STATUSES,
    ExchangeMismatch,
    PointTransfer,
)
from lps_core.exchange.schemas import ReconcileForm, ReportForm, ResolveForm, TransferSearchForm
from lps_core.exchange.services import KIND, exchange_of
from lps_core.ledger.models import LedgerEntry
from lps_core.members.models import Member
from lps_core.members.schemas import MemberPath, read_form
from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Outlet
from lps_core.screens.exchange import texts
from lps_core.screens.shared import actor, audit, flash, form_errors, outlets_in_scope
from lps_core.screens.shell.lists import paginate
from lps_core.screens.shell.security import outlet_scope, require_outlet
from lps_core.validation import validate

TEMPLATES = "lps_core.screens.exchange:templates/"
RETRY_ACTION = "exchange.transfer.retry"


def _path_id(request) -> int:
    try:
        return validate(MemberPath, {"id": request.matchdict["id"]}).id
    except LpsError:
        raise HTTPNotFound() from None


def _errors(exc: LpsError, known) -> dict:
    errors = {}
    for field, message in form_errors(exc.fields).items():
        errors[field if field in known else "form"] = message
    return errors or {"form": exc.message}


def _refused(request, exc):
    request.response.status = exc.status
    request.tm.doom()


def _period(request, first_day, last_day) -> tuple[datetime | None, datetime | None]:
    zone = request.programme.timezone
    start = datetime.combine(first_day, time(), tzinfo=zone) if first_day else None
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=zone) if last_day else None
    return start, end


def _partners(request) -> list:
    """The exchange partners installed, with their labels, for the filters."""
    return sorted(request.plugins.of_kind(KIND).values(), key=lambda adapter: adapter.name)


# --- The transfers --------------------------------------------------------------------------------

@view_config(route_name="exchange", renderer=TEMPLATES + "transfers.pt", permission=Permission.REPORTS_VIEW)
def transfers(request):
    db = request.dbsession
    raw = {name: request.params.get(name, "") for name in TransferSearchForm.model_fields}
    errors = {}
    try:
        search = read_form(TransferSearchForm, raw)
    except LpsError as exc:
        errors = _errors(exc, TransferSearchForm.model_fields)
        request.response.status = exc.status
        search = TransferSearchForm()
    query = (select(PointTransfer, Card.card_no, Outlet.code.label("outlet_code"), Member.name.label("member_name"))
             .join(Card, Card.id == PointTransfer.card_id).join(Outlet, Outlet.id == PointTransfer.outlet_id)
             .join(Member, Member.id == PointTransfer.member_id))
    for column, value in ((PointTransfer.partner, search.partner), (PointTransfer.direction, search.direction),
                          (PointTransfer.status, search.status), (PointTransfer.reference, search.reference),
                          (Card.card_no, search.card_no and search.card_no.replace("-", "")),
                          (Outlet.code, search.outlet)):
        if value:
            query = query.where(column == value)
    start, end = _period(request, search.first_day, search.last_day)
    if start is not None:
        query = query.where(PointTransfer.requested_at >= start)
    if end is not None:
        query = query.where(PointTransfer.requested_at < end)
    scope = outlet_scope(request)
    if scope is not None:
        query = query.where(PointTransfer.outlet_id.in_(sorted(scope)))
    sorts = {"requested": PointTransfer.requested_at, "partner": PointTransfer.partner,
             "status": PointTransfer.status, "points": PointTransfer.lps_points, "outlet": Outlet.code}
    page = paginate(db, request, query, sorts, "requested", descending=True, params=raw)
    return {"page": page, "search": raw, "errors": errors, "statuses": STATUSES, "partners": _partners(request),
            "outlets": outlets_in_scope(request)}


def _transfer(request) -> PointTransfer:
    transfer = request.dbsession.get(PointTransfer, _path_id(request))
    if transfer is None:
        raise HTTPNotFound()
    require_outlet(request, transfer.outlet_id)
    return transfer


@view_config(route_name="exchange.transfer", renderer=TEMPLATES + "transfer.pt", permission=Permission.REPORTS_VIEW)
def transfer_view(request):
    db = request.dbsession
    transfer = _transfer(request)
    entry_ids = [entry_id for entry_id in (transfer.entry_id, transfer.reversal_entry_id) if entry_id]
    mismatches = db.scalars(select(ExchangeMismatch).where(ExchangeMismatch.transfer_id == transfer.id)
                            .order_by(ExchangeMismatch.id)).all()
    entry_ids += [mismatch.entry_id for mismatch in mismatches if mismatch.entry_id and mismatch.entry_id
                  not in entry_ids]
    entries = db.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(entry_ids)).order_by(LedgerEntry.id)).all() \
        if entry_ids else []
    return {"transfer": transfer, "card": db.get(Card, transfer.card_id), "member": db.get(Member, transfer.member_id),
            "outlet": db.get(Outlet, transfer.outlet_id), "entries": entries, "mismatches": mismatches,
            "adapter": request.plugins.of_kind(KIND).get(transfer.partner),
            "may_retry": transfer.status in OPEN_STATUSES and request.has_permission(Permission.POINTS_ADJUST)}


@view_config(route_name="exchange.transfer.retry", request_method="POST", permission=Permission.POINTS_ADJUST)
def retry(request):
    """Ask the partner again about an open transfer; what it answered is recorded (and, once done,
    posted) like a resend from the till. Audited with the status before and after."""
    transfer = _transfer(request)
    before = transfer.status
    try:
        services.retry_transfer(request.dbsession, request.plugins, request.programme, transfer.id,
                                outlet_scope(request))
    except LpsError as exc:
        request.session.flash(exc.message, "error")
    else:
        audit(request, RETRY_ACTION, ("exchange_transfer", transfer.id), before={"status": before},
              after={"status": transfer.status, "attempts": transfer.attempts, "last_error": transfer.last_error,
                     "partner": transfer.partner, "reference": transfer.reference}, outlet_id=transfer.outlet_id)
        flash(request, texts.asked_again(transfer.status))
    return HTTPSeeOther(request.route_url("exchange.transfer", id=transfer.id))


# --- Reconciliation ---------------------------------------------------------------------------------

def _month_so_far(request) -> tuple[date, date]:
    today = datetime.now(request.programme.timezone).date()
    return today.replace(day=1), today


def report_page(request, errors=None, run_form=None) -> dict:
    db = request.dbsession
    raw = {name: request.params.get(name, "") for name in ReportForm.model_fields}
    first, last = _month_so_far(request)
    raw["first_day"] = raw["first_day"] or first.isoformat()
    raw["last_day"] = raw["last_day"] or last.isoformat()
    errors = dict(errors or {})
    try:
        search = read_form(ReportForm, raw)
    except LpsError as exc:
        errors.update(_errors(exc, ReportForm.model_fields))
        request.response.status = exc.status
        search = ReportForm(first_day=first, last_day=last)
    start, end = _period(request, search.first_day, search.last_day)
    query = reconciliation.mismatch_query(search.partner, start, end, search.status, outlet_scope(request))
    rows = db.scalars(query.order_by(ExchangeMismatch.partner, ExchangeMismatch.status.desc(),
                                     ExchangeMismatch.id).limit(500)).all()
    transfers = {transfer.id: transfer for transfer in db.scalars(select(PointTransfer).where(
        PointTransfer.id.in_([row.transfer_id for row in rows if row.transfer_id])))} if rows else {}
    counts = _counts(rows)
    may_run = request.has_permission(Permission.POINTS_ADJUST) and outlet_scope(request) is None
    return {"rows": rows, "transfers": transfers, "search": raw, "errors": errors, "counts": counts,
            "statuses": MISMATCH_STATUSES, "problems": PROBLEMS, "partners": _partners(request),
            "may_run": may_run, "run": run_form or {"partner": raw["partner"], "first_day": raw["first_day"],
                                                      "last_day": raw["last_day"]},
            "suggested": {row.id: reconciliation.suggested_points(row, transfers.get(row.transfer_id))
                          for row in rows}}


def _counts(rows) -> dict:
    counts = {status: 0 for status in MISMATCH_STATUSES}
    for row in rows:
        counts[row.status] += 1
    return counts


@view_config(route_name="exchange.reconciliation", renderer=TEMPLATES + "reconciliation.pt",
             permission=Permission.REPORTS_VIEW)
def report(request):
    return report_page(request)


@view_config(route_name="exchange.reconciliation.run", request_method="POST",
             renderer=TEMPLATES + "reconciliation.pt", permission=Permission.POINTS_ADJUST)
def run(request):
    if outlet_scope(request) is not None:
        raise HTTPForbidden(request.localizer.translate(texts.ALL_OUTLETS_ONLY))
    form = {name: request.POST.get(name, "") for name in ReconcileForm.model_fields}
    try:
        wanted = read_form(ReconcileForm, form)
        start, end = _period(request, wanted.first_day, wanted.last_day)
        exchange_of(request.plugins, wanted.partner)  # 404 naming `partner` for one not installed
        savepoint = request.dbsession.begin_nested()
        try:
            found = reconciliation.record_reconciliation(request.dbsession, request.plugins, request.programme,
                                                         wanted.partner, start, end, settle_open=wanted.settle)
        except LpsError:
            savepoint.rollback()
            raise
        savepoint.commit()
    except LpsError as exc:
        _refused(request, exc)
        return report_page(request, {"run": _errors(exc, ReconcileForm.model_fields)}, form)
    reconciliation.record_run(request.dbsession, wanted.partner, start, end, found, actor=actor(request),
                              address=request.client_addr)
    flash(request, texts.reconciled(len(found)))
    return HTTPSeeOther(request.route_url("exchange.reconciliation", _query={
        "partner": wanted.partner, "first_day": wanted.first_day.isoformat(),
        "last_day": wanted.last_day.isoformat()}))


def _mismatch(request, lock=False) -> ExchangeMismatch:
    try:
        return reconciliation.get_mismatch(request.dbsession, _path_id(request), outlet_scope(request), lock=lock)
    except LpsError:
        raise HTTPNotFound() from None


def mismatch_page(request, mismatch, errors=None, form=None) -> dict:
    db = request.dbsession
    transfer = db.get(PointTransfer, mismatch.transfer_id) if mismatch.transfer_id else None
    suggested = reconciliation.suggested_points(mismatch, transfer)
    return {"mismatch": mismatch, "transfer": transfer,
            "member": db.get(Member, mismatch.member_id or (transfer.member_id if transfer else 0)),
            "entry": db.get(LedgerEntry, mismatch.entry_id) if mismatch.entry_id else None,
            "suggested": suggested, "errors": errors or {},
            "form": form or {"points": str(suggested), "reason": "", "card_no": ""},
            "may_resolve": request.has_permission(Permission.POINTS_ADJUST)}


@view_config(route_name="exchange.mismatch", renderer=TEMPLATES + "mismatch.pt", permission=Permission.REPORTS_VIEW)
def mismatch_view(request):
    return mismatch_page(request, _mismatch(request))


@view_config(route_name="exchange.mismatch.resolve", request_method="POST", renderer=TEMPLATES + "mismatch.pt",
             permission=Permission.POINTS_ADJUST)
def resolve(request):
    mismatch = _mismatch(request)
    form = {name: request.POST.get(name, "") for name in ResolveForm.model_fields}
    try:
        # "+25" reads as 25: staff type the sign of an addition too.
        wanted = read_form(ResolveForm, {**form, "points": form["points"].strip().removeprefix("+")})
        savepoint = request.dbsession.begin_nested()
        try:
            reconciliation.resolve_mismatch(request.dbsession, request.programme, mismatch.id, wanted.resolution(),
                                            actor=actor(request), outlet_ids=outlet_scope(request),
                                            address=request.client_addr)
        except LpsError:
            savepoint.rollback()
            raise
        savepoint.commit()
    except LpsError as exc:
        _refused(request, exc)
        request.dbsession.refresh(mismatch)
        return mismatch_page(request, mismatch, _errors(exc, ResolveForm.model_fields), form)
    flash(request, texts.RESOLVED)
    return HTTPSeeOther(request.route_url("exchange.mismatch", id=mismatch.id))

