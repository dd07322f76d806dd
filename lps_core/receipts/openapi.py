"""The OpenAPI description of this feature's /api/v1 routes, merged into lps_core.api.openapi.DOCUMENT."""
from lps_core.api.openapi_parts import errors, json_content, path_param

FIELDS = ["member", "card", "tier", "items", "discount", "tenders", "points", "balances", "refunds", "signature"]
SETTLEMENT_ID = path_param("id", "Settlement id", "integer")
OUTLET_CODE = path_param("code", "Outlet code")

PATHS = {
    "/api/v1/outlets/{code}/receipt-layout": {
        "get": {
            "summary": "An outlet's receipt layout, or the defaults (scope outlets.manage)",
            "operationId": "getReceiptLayout", "parameters": [OUTLET_CODE],
            "responses": {"200": {"description": "The layout", "content": json_content("ReceiptLayout")},
                          **errors(401, 403, 404)},
        },
        "put": {
            "summary": "Replace an outlet's receipt layout; fields left out take their defaults (scope outlets.manage)",
            "operationId": "putReceiptLayout", "parameters": [OUTLET_CODE],
            "requestBody": {"required": True, "content": json_content("ReceiptLayoutRequest")},
            "responses": {"200": {"description": "The layout saved", "content": json_content("ReceiptLayout")},
                          **errors(400, 401, 403, 404, 413)},
        },
    },
    "/api/v1/settlements/{id}/receipt": {"get": {
        "summary": "Print a settlement's receipt as an HTML page (scope cashier; the key's outlet must be the "
                   "settlement's)",
        "operationId": "printReceipt",
        "description": "Every call records a print. The first is the original; every later one is marked COPY "
                       "and numbered (header X-LPS-Receipt-Copy: 0 for the original, 1, 2... for copies).",
        "parameters": [SETTLEMENT_ID, {
            "name": "paper", "in": "query", "required": False,
            "description": "Paper size; default the outlet layout's paper",
            "schema": {"type": "string", "enum": ["80mm", "a4"]}}],
        "responses": {"200": {"description": "The receipt, ready to print",
                              "content": {"text/html": {"schema": {"type": "string"}}}},
                      **errors(400, 401, 403, 404)},
    }},
    "/api/v1/settlements/{id}/receipt/prints": {"get": {
        "summary": "Every print of a settlement's receipt, original first (scope cashier)",
        "operationId": "listReceiptPrints", "parameters": [SETTLEMENT_ID],
        "responses": {"200": {"description": "The prints", "content": json_content("ReceiptPrints")},
                      **errors(400, 401, 403, 404)},
    }},
}

_LAYOUT_PROPERTIES = {
    "header_text": {"type": "string", "maxLength": 500, "nullable": True,
                    "description": "Plain text, shown as typed (escaped); new lines are kept"},
    "footer_text": {"type": "string", "maxLength": 500, "nullable": True},
    "logo": {"type": "string", "maxLength": 48000, "nullable": True,
             "description": "An http(s) URL, or a data: URI (base64) of a PNG, JPEG, GIF or WebP image"},
    "paper": {"type": "string", "enum": ["80mm", "a4"], "default": "80mm"},
    "template": {"type": "string", "example": "lps-80mm",
                 "description": "A registered receipt template (lps-80mm, lps-a4, or a plugin's); default: "
                                "LPS's template for the paper"},
    "fields": {"type": "array", "items": {"type": "string", "enum": FIELDS}, "default": FIELDS,
               "description": "The parts shown; outlet, bill no., time and totals always show"},
}

SCHEMAS = {
    "ReceiptLayoutRequest": {"type": "object", "additionalProperties": False, "properties": _LAYOUT_PROPERTIES},
    "ReceiptLayout": {"type": "object", "properties": {
        "outlet": {"type": "string"}, **_LAYOUT_PROPERTIES,
        "default": {"type": "boolean", "description": "True when the outlet has no layout of its own"}}},
    "ReceiptPrints": {"type": "object", "properties": {
        "settlement_id": {"type": "integer"},
        "prints": {"type": "array", "items": {"type": "object", "properties": {
            "copy": {"type": "boolean"}, "copy_no": {"type": "integer", "description": "0 for the original"},
            "paper": {"type": "string", "enum": ["80mm", "a4"]}, "template": {"type": "string"},
            "printed_at": {"type": "string", "format": "date-time"}}}},
    }},
}
