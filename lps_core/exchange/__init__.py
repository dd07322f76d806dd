"""Point exchanges: members' points moved to and from partner programmes through exchange adapters
(IPointExchange plugins), each transfer keyed by the partner's reference and posted in the ledger."""


def includeme(config):
    """The exchange API under /api/v1/exchanges/{partner}."""
    config.add_route("api.exchange_quotes", "/api/v1/exchanges/{partner}/quotes")
    config.add_route("api.exchange_transfers", "/api/v1/exchanges/{partner}/transfers")
    config.add_route("api.exchange_transfer", "/api/v1/exchanges/{partner}/transfers/{reference}")
    config.add_route("api.exchange_transfer_reversal", "/api/v1/exchanges/{partner}/transfers/{reference}/reversal")
    from lps_core.exchange.openapi import OPERATIONS, SCHEMAS

    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan("lps_core.exchange.views")
