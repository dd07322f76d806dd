"""The vouchers API's operations and the schemas of their answers."""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.vouchers.schemas import VoucherIssueIn, VoucherPath, VoucherVoidIn

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "50.00"}
TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {**TIMESTAMP, "nullable": True}

OPERATIONS = [
    Operation("api.vouchers", "post", "issueVouchers", "Issue vouchers of one face value and validity",
              {"201": answer("Issued", "VoucherBatch"), **problems(401, 403, 413, 422)},
              scope="vouchers.manage", body=VoucherIssueIn,
              description="Each call issues new vouchers with new random codes (a retried call issues more). "
                          "A valid_to already past, or not after valid_from: 422."),
    Operation("api.voucher", "get", "getVoucher", "One voucher of the key's outlet or of the whole programme",
              {"200": answer("The voucher", "Voucher"), **problems(401, 403, 404)},
              scope="vouchers.manage", path=VoucherPath,
              description="Another outlet's voucher answers 404, like an unknown code."),
    Operation("api.voucher_void", "post", "voidVoucher", "Void a voucher, so that no till takes it",
              {"200": answer("Voided (or already void)", "Voucher"), **problems(401, 403, 404, 409, 413)},
              scope="vouchers.manage", body=VoucherVoidIn, body_required=False, path=VoucherPath,
              description="A redeemed voucher cannot be voided (409): refund its settlement instead."),
]

SCHEMAS = {
    "Voucher": {"type": "object", "properties": {
        "code": {"type": "string", "example": "V2ABCD3EFGH4J", "description": "Printed on the voucher; the "
                                                                           "voucher tender's reference"},
        "value": DECIMAL,
        "valid_from": TIMESTAMP,
        "valid_to": {**TIMESTAMP, "description": "Excluded: the voucher is not taken from this moment"},
        "issued_at": TIMESTAMP,
        "outlet": {"type": "string", "nullable": True, "description": "null: taken at every outlet"},
        "status": {"type": "string", "enum": ["issued", "expired", "redeemed", "void"]},
        "redeemed_at": NULLABLE_TIMESTAMP,
        "settlement_id": {"type": "integer", "nullable": True},
        "voided_at": NULLABLE_TIMESTAMP,
        "void_reason": {"type": "string", "nullable": True},
        "replayed": {"type": "boolean", "description": "Voiding: the voucher was already void"},
    }},
    "VoucherBatch": {"type": "object", "properties": {
        "vouchers": {"type": "array", "items": {"$ref": "#/components/schemas/Voucher"}}}},
}
