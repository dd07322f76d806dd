"""The receipt API's operations (an outlet's layout, printing a settlement's receipt, its prints) and
the schemas of their answers; the request schemas are the models of lps_core.receipts.schemas."""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.cashier.schemas import SettlementPath
from lps_core.receipts.schemas import OutletPath, ReceiptLayoutIn, ReceiptQuery
from lps_core.receipts.services import FIELDS, PAPERS

OPERATIONS = [
    Operation("api.receipt_layout", "get", "getReceiptLayout", "An outlet's receipt layout, or the defaults",
              {"200": answer("The layout", "ReceiptLayout"), **problems(401, 403, 404)},
              scope="outlets.manage", path=OutletPath),
    Operation("api.receipt_layout", "put", "putReceiptLayout",
              "Replace an outlet's receipt layout; fields left out take their defaults",
              {"200": answer("The layout saved", "ReceiptLayout"), **problems(401, 403, 404, 413, 422)},
              scope="outlets.manage", body=ReceiptLayoutIn, path=OutletPath),
    Operation("api.settlement_receipt", "get", "printReceipt",
              "Print a settlement's receipt as an HTML page (the key's outlet must be the settlement's)",
              {"200": {"description": "The receipt, ready to print",
                       "content": {"text/html": {"schema": {"type": "string"}}}}, **problems(401, 403, 404)},
              scope="cashier", path=SettlementPath, query=ReceiptQuery,
              description="Every call records a print. The first is the original; every later one is marked COPY "
                          "and numbered (header X-LPS-Receipt-Copy: 0 for the original, 1, 2... for copies). "
                          "Another outlet's settlement answers 404, like an unknown one."),
    Operation("api.settlement_receipt_prints", "get", "listReceiptPrints",
              "Every print of a settlement's receipt, original first",
              {"200": answer("The prints", "ReceiptPrints"), **problems(401, 403, 404)},
              scope="cashier", path=SettlementPath),
]

SCHEMAS = {
    "ReceiptLayout": {"type": "object", "properties": {
        "outlet": {"type": "string"},
        "header_text": {"type": "string", "nullable": True}, "footer_text": {"type": "string", "nullable": True},
        "logo": {"type": "string", "nullable": True},
        "paper": {"type": "string", "enum": list(PAPERS)},
        "template": {"type": "string", "example": "lps-80mm"},
        "fields": {"type": "array", "items": {"type": "string", "enum": list(FIELDS)}},
        "default": {"type": "boolean", "description": "True when the outlet has no layout of its own"}}},
    "ReceiptPrints": {"type": "object", "properties": {
        "settlement_id": {"type": "integer"},
        "prints": {"type": "array", "items": {"type": "object", "properties": {
            "copy": {"type": "boolean"}, "copy_no": {"type": "integer", "description": "0 for the original"},
            "paper": {"type": "string", "enum": list(PAPERS)}, "template": {"type": "string"},
            "printed_at": {"type": "string", "format": "date-time"}}}},
    }},
}
