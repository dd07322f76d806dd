"""The exchange API's operations and the schemas of their answers."""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.exchange.models import STATUSES
from lps_core.exchange.schemas import ExchangePath, QuoteIn, ReversalIn, TransferIn, TransferPath, TransferQuery

TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {**TIMESTAMP, "nullable": True}
DIRECTION = {"type": "string", "enum": ["in", "out"]}
SWITCHED = "The partner must be switched on at the key's outlet (422 naming `partner` otherwise); an unknown partner is 404."

OPERATIONS = [
    Operation("api.exchange_quotes", "post", "quoteExchange", "What a transfer of so many points would move",
              {"200": answer("The quote", "ExchangeQuote"), **problems(401, 403, 404, 413, 422)},
              scope="exchange", body=QuoteIn, path=ExchangePath,
              description=f"{SWITCHED} An amount below the partner's minimum, off its step, or too small to "
                          "convert: 422 naming `points`. Nothing is recorded."),
    Operation("api.exchange_transfers", "post", "requestExchangeTransfer",
              "Move a member's points to the partner (out) or from it (in)",
              {"201": answer("Done: the partner confirmed and the points moved", "ExchangeTransfer"),
               "200": answer("A resend of a finished transfer: the transfer as recorded", "ExchangeTransfer"),
               "202": answer("Open (pending or unknown): the partner has not confirmed yet. An out transfer "
                             "holds its points. Send it again with the same reference later", "ExchangeTransfer"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="exchange", body=TransferIn, path=ExchangePath,
              description=f"{SWITCHED} Idempotent on (partner, direction, reference): a resend never posts twice; "
                          "the same reference with other content is 409. A transfer the partner refuses for good "
                          "answers 422 with the transfer (status failed) under `transfer`, its points given back. "
                          "Minimum, step and daily and monthly limits of the partner's settings: 422 naming "
                          "`points`; too few points: 409."),
    Operation("api.exchange_transfer", "get", "getExchangeTransfer", "One transfer, by the partner's reference",
              {"200": answer("The transfer", "ExchangeTransfer"), **problems(401, 403, 404, 422)},
              scope="exchange", path=TransferPath, query=TransferQuery,
              description="A transfer requested at another outlet answers 404, as an unknown one. `direction` is "
                          "needed only when the reference was used both ways (422 otherwise)."),
    Operation("api.exchange_transfer_reversal", "post", "reverseExchangeTransfer",
              "Undo a transfer at the partner and in the ledger",
              {"200": answer("Reversed (or already reversed)", "ExchangeTransfer"),
               "202": answer("The partner confirms the reversal later: send it again", "ExchangeTransfer"),
               **problems(401, 403, 404, 409, 413, 422)},
              scope="exchange", body=ReversalIn, body_required=False, path=TransferPath,
              description=f"{SWITCHED} Only the outlet the transfer was requested at may reverse it (404 "
                          "elsewhere). A failed transfer has nothing to reverse (409), nor has a transfer in whose "
                          "points the member has already spent (409). The partner refusing: 409; the partner "
                          "unreachable: 503, send it again. An open transfer may be reversed: that cancels it."),
]

SCHEMAS = {
    "ExchangeQuote": {"type": "object", "properties": {
        "partner": {"type": "string"}, "direction": DIRECTION,
        "points": {"type": "integer", "description": "LPS points moved"},
        "partner_points": {"type": "integer", "description": "The partner's points moved"},
        "rate": {"type": "string", "description": "The rate as the partner states it"},
    }},
    "ExchangeTransfer": {"type": "object", "properties": {
        "partner": {"type": "string"}, "direction": DIRECTION, "reference": {"type": "string"},
        "card_no": {"type": "string"}, "partner_member_no": {"type": "string"},
        "points": {"type": "integer", "description": "LPS points moved"},
        "partner_points": {"type": "integer"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "attempts": {"type": "integer", "description": "How often the partner was asked"},
        "last_error": {"type": "string", "nullable": True},
        "partner_reference": {"type": "string", "nullable": True},
        "outlet": {"type": "string"},
        "requested_at": TIMESTAMP, "completed_at": NULLABLE_TIMESTAMP,
        "ledger_entry_id": {"type": "integer", "nullable": True},
        "reversal_entry_id": {"type": "integer", "nullable": True},
        "replayed": {"type": "boolean"},
        "reversal_pending": {"type": "boolean", "description": "Reversal: the partner confirms it later"},
    }},
}
