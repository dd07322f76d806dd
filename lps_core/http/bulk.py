"""The bulk exchange over the API (scope `website`): exports, and imports previewed, resolved,
confirmed and applied as on the staff screen (docs/import-export.md). Thin: read the input through
the operation's schema, call lps_core.bulk, shape JSON.

An import file is the request's body as it is (CSV, XLSX or JSON, up to 64 MiB), not a JSON
document: what is wrong inside the file (a column, its encoding, its format) cannot be told by this
document, so it is 422 naming `file`. A website key exports with personal data: the hotel grants
the scope `website` by name to the system it exchanges members with."""
from pyramid.response import Response
from pyramid.view import view_config

from lps_core.audit.services import Actor
from lps_core.bulk import services
from lps_core.bulk.exports import export
from lps_core.bulk.files import CONTENT_TYPES, MAX_FILE_BYTES, XLSX
from lps_core.bulk.models import ACTIONS, BATCH_STATUSES, KINDS, STALE
from lps_core.bulk.schemas import (
    BatchPath,
    BatchRowsQuery,
    ExportFileQuery,
    ExportPath,
    ImportFileQuery,
    ImportKindPath,
    ResolutionIn,
)
from lps_core.errors import Conflict, Unprocessable, ValidationFailed
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate

SCOPE = "website"


def includeme(config):
    config.add_route("api.export", "/api/v1/exports/{kind}")
    config.add_route("api.imports", "/api/v1/imports/{kind}")
    config.add_route("api.import", "/api/v1/import-batches/{id}")
    config.add_route("api.import_resolutions", "/api/v1/import-batches/{id}/resolutions")
    config.add_route("api.import_confirm", "/api/v1/import-batches/{id}/confirm")
    config.add_route("api.import_apply", "/api/v1/import-batches/{id}/apply")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


OPERATIONS = [
    Operation("api.export", "get", "exportData", "Export members, cards or points balances as a file",
              {"200": {"description": "The file, with its name in Content-Disposition", "content": {
                  "text/csv": {"schema": {"type": "string"}},
                  CONTENT_TYPES[XLSX]: {"schema": {"type": "string", "format": "binary"}},
                  "application/json": {"schema": {"type": "object"}}}},
               **problems(401, 403, 404, 422)},
              scope=SCOPE, path=ExportPath, query=ExportFileQuery, tags=("website",),
              description="With phone numbers, ID numbers and addresses decrypted; audited without the data."),
    Operation("api.imports", "post", "previewImport", "Preview an import file sent as the body; nothing else is written",
              {"201": answer("The preview: the batch with its rows counted by action", "ImportBatch"),
               "200": answer("The same file was confirmed before: its batch, nothing changed", "ImportBatch"),
               **problems(401, 403, 404, 422)},
              scope=SCOPE, path=ImportKindPath, query=ImportFileQuery, tags=("website",),
              description="The body is the file itself (CSV, XLSX or JSON, at most 64 MiB). A file that cannot be "
                          "read (no body, unknown or missing columns, another encoding, an XLSX named .csv) is "
                          "422 naming `file`. The same file again is recognised by its SHA-256."),
    Operation("api.import", "get", "getImportBatch", "An import batch and a page of its previewed rows",
              {"200": answer("The batch and the rows", "ImportBatchRows"), **problems(401, 403, 404)},
              scope=SCOPE, path=BatchPath, query=BatchRowsQuery, tags=("website",)),
    Operation("api.import_resolutions", "post", "resolveImportConflict", "Resolve a conflict of a preview",
              {"200": answer("The row as resolved", "ImportRow"), **problems(401, 403, 404, 409, 413, 422)},
              scope=SCOPE, path=BatchPath, body=ResolutionIn, tags=("website",),
              description="A resolution outside the row's options, or a row without a conflict, is 422. Applying "
                          "a row of a duplicate group skips the group's other rows."),
    Operation("api.import_confirm", "post", "confirmImport", "Confirm a preview: it starts applying",
              {"200": answer("Confirmed (status applying, or applied when nothing was to write)", "ImportBatch"),
               **problems(401, 403, 404, 409)},
              scope=SCOPE, path=BatchPath, tags=("website",),
              description="An unresolved conflict is 409 naming `conflicts`. A preview that went stale (the data "
                          "changed since) is 409 naming `batch` with the rows and why; send the file again."),
    Operation("api.import_apply", "post", "applyImportChunk", "Apply the next chunk of a confirmed import",
              {"200": answer("The batch after this chunk: call again while its status is applying",
                             "ImportBatch"), **problems(401, 403, 404)},
              scope=SCOPE, path=BatchPath, tags=("website",),
              description="Each call applies up to 5,000 rows in one transaction; a row whose record changed "
                          "since the preview stops the batch as stale."),
]

COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
SCHEMAS = {
    "ImportBatch": {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string", "enum": list(KINDS)},
        "file_name": {"type": "string"}, "file_format": {"type": "string"}, "content_hash": {"type": "string"},
        "status": {"type": "string", "enum": list(BATCH_STATUSES)}, "total_rows": {"type": "integer"},
        "counts": {**COUNTS, "description": "Rows by action: add, change, unchanged, conflict, error"},
        "to_apply": {"type": "integer", "nullable": True}, "applied_rows": {"type": "integer"},
        "applied_through": {"type": "integer"}, "percent": {"type": "integer"},
        "stale_reason": {"type": "string", "nullable": True}}},
    "ImportRow": {"type": "object", "properties": {
        "row_no": {"type": "integer"}, "action": {"type": "string", "enum": list(ACTIONS)},
        "base_action": {"type": "string", "nullable": True}, "target_id": {"type": "integer", "nullable": True},
        "errors": {"type": "object", "nullable": True, "additionalProperties": {"type": "string"}},
        "conflict": {"type": "object", "nullable": True}, "resolution": {"type": "string", "nullable": True},
        "values": {"type": "object"}, "diff": {"type": "object", "nullable": True},
        "candidates": {"type": "object", "nullable": True}}},
    "ImportBatchRows": {"type": "object", "properties": {
        "batch": {"$ref": "#/components/schemas/ImportBatch"},
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/ImportRow"}},
        "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}}},
}


def _actor(request) -> Actor:
    key = request.verified_api_key
    return Actor.api_key(key.id, f"{key.prefix} ({key.label})" if key.label else key.prefix)


@view_config(route_name="api.export", request_method="GET", require_csrf=False)
def export_file(request):
    authenticate(request, SCOPE)
    kind, query = read_path(request).kind, read_query(request)
    content, name, _ = export(request.dbsession, kind, query.format, actor=_actor(request), personal=True,
                              changed_since=query.changed_since, tz=request.programme.timezone,
                              address=request.client_addr)
    response = Response(body=content, content_type=CONTENT_TYPES[query.format].split(";")[0],
                        charset="utf-8" if query.format != XLSX else None)
    response.content_disposition = f'attachment; filename="{name}"'
    response.cache_control = "private, no-store"
    return response


@view_config(route_name="api.imports", request_method="POST", require_csrf=False, renderer="json")
def preview(request):
    authenticate(request, SCOPE)
    kind, query = read_path(request).kind, read_query(request)
    content = request.body_file.read(MAX_FILE_BYTES + 1)
    try:
        if not content:
            raise ValidationFailed("send the file as the request's body", {"file": "send the file as the body"})
        batch, recognised = services.preview_import(
            request.dbsession, kind=kind, content=content, file_name=query.file_name or f"upload.{kind}",
            actor=_actor(request), encoding=query.encoding, file_format=query.file_format,
            address=request.client_addr)
    except ValidationFailed as exc:  # inside the file: nothing this document can describe
        raise Unprocessable(exc.message, exc.fields) from None
    request.response.status = 200 if recognised else 201
    return services.progress(batch)


@view_config(route_name="api.import", request_method="GET", require_csrf=False, renderer="json")
def batch_rows(request):
    authenticate(request, SCOPE)
    batch = services.get_batch(request.dbsession, read_path(request).id)
    query = read_query(request)
    rows, total = services.rows_page(request.dbsession, batch, action=query.action, page=query.page,
                                     per_page=query.per_page)
    return {"batch": services.progress(batch), "rows": rows, "total": total, "page": query.page,
            "per_page": query.per_page}


@view_config(route_name="api.import_resolutions", request_method="POST", require_csrf=False, renderer="json")
def resolve(request):
    authenticate(request, SCOPE)
    batch_id, body = read_path(request).id, read_body(request)
    row = services.resolve(request.dbsession, batch_id, body.row_no, body.resolution, actor=_actor(request),
                           address=request.client_addr)
    return services.row_json(row)


@view_config(route_name="api.import_confirm", request_method="POST", require_csrf=False, renderer="json")
def confirm(request):
    authenticate(request, SCOPE)
    batch = services.confirm(request.dbsession, read_path(request).id, actor=_actor(request),
                             programme=request.programme, address=request.client_addr)
    if batch.status == STALE:
        raise Conflict(batch.stale_reason or "the preview is stale", {"batch": batch.stale_reason or "is stale"})
    return services.progress(batch)


@view_config(route_name="api.import_apply", request_method="POST", require_csrf=False, renderer="json")
def apply_chunk(request):
    authenticate(request, SCOPE)
    batch = services.apply_next_chunk(request.dbsession, read_path(request).id, programme=request.programme)
    return services.progress(batch)
