"""Bulk exchange screens. Views read their input through lps_core.bulk.schemas, call
lps_core.bulk.services and exports (which audit), and redirect; a refused form is shown again with
the message beside its field and the HTTP status of the error.

The bulk exchange works on the whole programme, so its screens are for head office: an operator
whose scope is some outlets is refused (403) whatever their roles. Permissions: data.export to see
the screen and export (personal data only with data.export_personal), data.import to upload,
resolve, confirm and apply."""
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config

from lps_core.bulk import services
from lps_core.bulk.exports import export
from lps_core.bulk.files import CONTENT_TYPES, ENCODINGS, FORMATS, MAX_FILE_BYTES
from lps_core.bulk.models import ACTIONS, KINDS, STALE
from lps_core.bulk.schemas import EXPORT_KINDS, ExportQuery, ImportForm, ResolutionForm, RowsQuery
from lps_core.errors import LpsError, ValidationFailed
from lps_core.members.schemas import MemberPath, read_form
from lps_core.operators.permissions import Permission
from lps_core.screens.bulk import texts
from lps_core.screens.shared import actor, flash, form_errors
from lps_core.validation import validate

TEMPLATES = "lps_core.screens.bulk:templates/"
UPLOAD_FIELDS = ("kind", "encoding", "file_format", "file")
EXPORT_FIELDS = ("kind", "format", "changed_since")


def _head_office(request):
    if not request.identity.all_outlets:
        raise HTTPForbidden("the bulk exchange is for operators of every outlet")


def _refused(request, exc):
    request.response.status = exc.status
    request.tm.doom()


def _errors(exc: LpsError, known) -> dict:
    errors = {}
    for name, message in form_errors(exc.fields).items():
        errors[name if name in known else "form"] = message
    return errors or {"form": exc.message}


def _batch_id(request) -> int:
    """The batch of the URL, which must exist (404 otherwise)."""
    try:
        batch_id = validate(MemberPath, {"id": request.matchdict["id"]}).id
        services.get_batch(request.dbsession, batch_id)
    except LpsError:
        raise HTTPNotFound() from None
    return batch_id


def home_page(request, errors=None, form=None) -> dict:
    return {"batches": services.batches(request.dbsession, 10), "kinds": KINDS, "export_kinds": EXPORT_KINDS,
            "formats": FORMATS, "encodings": ENCODINGS, "errors": errors or {}, "form": form or {},
            "may_import": request.has_permission(Permission.DATA_IMPORT),
            "personal": request.has_permission(Permission.DATA_EXPORT_PERSONAL),
            "columns": {kind: services.columns_of(kind) for kind in KINDS}}


@view_config(route_name="bulk", renderer=TEMPLATES + "bulk.pt", permission=Permission.DATA_EXPORT)
def home(request):
    _head_office(request)
    return home_page(request)


@view_config(route_name="bulk.export", permission=Permission.DATA_EXPORT)
def export_file(request):
    _head_office(request)
    if not request.params:
        return HTTPSeeOther(request.route_url("bulk"))
    raw = {name: request.params.get(name, "") for name in EXPORT_FIELDS}
    try:
        query = read_form(ExportQuery, raw)
        content, name, _ = export(
            request.dbsession, query.kind, query.format, actor=actor(request),
            personal=request.has_permission(Permission.DATA_EXPORT_PERSONAL), changed_since=query.changed_since,
            tz=request.programme.timezone, address=request.client_addr)
    except LpsError as exc:
        _refused(request, exc)
        return render_to_response(TEMPLATES + "bulk.pt", home_page(request, {"export": _errors(exc, EXPORT_FIELDS)},
                                                                  raw), request=request, response=request.response)
    response = Response(body=content, content_type=CONTENT_TYPES[query.format].split(";")[0],
                        charset="utf-8" if query.format == "csv" else None)
    response.content_disposition = f'attachment; filename="{name}"'
    response.cache_control = "private, no-store"
    return response


@view_config(route_name="bulk.imports", request_method="POST", renderer=TEMPLATES + "bulk.pt",
             permission=Permission.DATA_IMPORT)
def upload(request):
    _head_office(request)
    form = {name: request.POST.get(name, "") for name in UPLOAD_FIELDS if name != "file"}
    try:
        wanted = read_form(ImportForm, form)
        field = request.POST.get("file")
        if field is None or isinstance(field, str) or not getattr(field, "file", None):
            raise ValidationFailed("choose a file", {"file": texts.CHOOSE_FILE})
        content = field.file.read(MAX_FILE_BYTES + 1)
        batch, recognised = services.preview_import(
            request.dbsession, kind=wanted.kind, content=content, file_name=field.filename, actor=actor(request),
            encoding=wanted.encoding, file_format=wanted.file_format, address=request.client_addr)
    except LpsError as exc:
        _refused(request, exc)
        return home_page(request, {"upload": _errors(exc, UPLOAD_FIELDS)}, form)
    flash(request, texts.RECOGNISED if recognised else texts.PREVIEWED)
    return HTTPSeeOther(request.route_url("bulk.imports", _query={"batch": batch.id}))


def batch_page(request, batch, errors=None) -> dict:
    raw = {name: request.params.get(name, "") for name in ("action", "page", "per_page")}
    try:
        query = read_form(RowsQuery, raw)
    except LpsError:
        query = RowsQuery()
    rows, total = services.rows_page(request.dbsession, batch, action=query.action, page=query.page,
                                     per_page=query.per_page)
    return {"batch": batch, "state": services.progress(batch), "rows": rows, "total": total, "query": query,
            "pages": max(1, -(-total // query.per_page)), "actions": ACTIONS, "errors": errors or {},
            "unresolved": services.unresolved(request.dbsession, batch)}


@view_config(route_name="bulk.imports", request_method="GET", permission=Permission.DATA_IMPORT)
def imports(request):
    """Without ?batch: every import batch, newest first; with it, that batch's preview."""
    _head_office(request)
    if not request.params.get("batch"):
        return render_to_response(TEMPLATES + "batches.pt", {"batches": services.batches(request.dbsession, 200)},
                                  request=request)
    try:
        batch = services.get_batch(request.dbsession, validate(MemberPath, {"id": request.params["batch"]}).id)
    except LpsError:
        raise HTTPNotFound() from None
    return render_to_response(TEMPLATES + "batch.pt", batch_page(request, batch), request=request)


def _back(request, batch_id):
    query = {"batch": batch_id, **{name: request.POST[name] for name in ("action", "page") if request.POST.get(name)}}
    return HTTPSeeOther(request.route_url("bulk.imports", _query=query))


def _refused_page(request, batch_id, exc, known=()):
    _refused(request, exc)
    batch = services.get_batch(request.dbsession, batch_id)
    return render_to_response(TEMPLATES + "batch.pt", batch_page(request, batch, _errors(exc, known)),
                              request=request, response=request.response)


@view_config(route_name="bulk.resolve", request_method="POST", permission=Permission.DATA_IMPORT)
def resolve(request):
    _head_office(request)
    batch_id = _batch_id(request)
    try:
        wanted = read_form(ResolutionForm, request.POST)
        services.resolve(request.dbsession, batch_id, wanted.row_no, wanted.resolution, actor=actor(request),
                         address=request.client_addr)
    except LpsError as exc:
        return _refused_page(request, batch_id, exc, ("row_no", "resolution"))
    flash(request, texts.RESOLVED)
    return _back(request, batch_id)


@view_config(route_name="bulk.skip_conflicts", request_method="POST", permission=Permission.DATA_IMPORT)
def skip_conflicts(request):
    _head_office(request)
    batch_id = _batch_id(request)
    try:
        services.skip_conflicts(request.dbsession, batch_id, actor=actor(request), address=request.client_addr)
    except LpsError as exc:
        return _refused_page(request, batch_id, exc)
    flash(request, texts.SKIPPED)
    return _back(request, batch_id)


@view_config(route_name="bulk.confirm", request_method="POST", permission=Permission.DATA_IMPORT)
def confirm(request):
    _head_office(request)
    batch_id = _batch_id(request)
    try:
        batch = services.confirm(request.dbsession, batch_id, actor=actor(request), programme=request.programme,
                                 address=request.client_addr)
    except LpsError as exc:
        return _refused_page(request, batch_id, exc, ("conflicts",))
    if batch.status == STALE:
        request.response.status = 409  # the stale mark is kept: the page tells why, and to preview again
        return render_to_response(TEMPLATES + "batch.pt", batch_page(request, batch), request=request,
                                  response=request.response)
    flash(request, texts.CONFIRMED)
    return _back(request, batch_id)


@view_config(route_name="bulk.apply", request_method="POST", permission=Permission.DATA_IMPORT)
def apply_chunk(request):
    """One chunk of a confirmed batch, in this request's transaction: the page's script calls it
    until the batch is applied (JSON progress); without the script, a button does, and comes back."""
    _head_office(request)
    batch_id = _batch_id(request)
    try:
        batch = services.apply_next_chunk(request.dbsession, batch_id, programme=request.programme)
    except LpsError as exc:
        return _refused_page(request, batch_id, exc)
    if "application/json" in (request.accept.header_value or ""):
        return Response(json=services.progress(batch), cache_control="no-store")
    return _back(request, batch_id)


@view_config(route_name="bulk.discard", request_method="POST", permission=Permission.DATA_IMPORT)
def discard(request):
    _head_office(request)
    batch_id = _batch_id(request)
    try:
        services.discard(request.dbsession, batch_id, actor=actor(request), address=request.client_addr)
    except LpsError as exc:
        return _refused_page(request, batch_id, exc)
    flash(request, texts.DISCARDED)
    return HTTPSeeOther(request.route_url("bulk.imports"))

