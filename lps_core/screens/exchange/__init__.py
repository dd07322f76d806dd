"""The staff screens of point exchanges: the transfers with every partner (searchable), one
transfer with its ledger entries (and, while it is open, a button that asks the partner again),
and reconciliation: the report of a partner's mismatches for a
period, running a reconciliation, and resolving a mismatch with a linked adjustment."""


def includeme(config):
    config.add_route("exchange", "/exchange")
    config.add_route("exchange.transfer", "/exchange/transfers/{id:\\d+}")
    config.add_route("exchange.transfer.retry", "/exchange/transfers/{id:\\d+}/retry")
    config.add_route("exchange.reconciliation", "/exchange/reconciliation")
    config.add_route("exchange.reconciliation.run", "/exchange/reconciliation/run")
    config.add_route("exchange.mismatch", "/exchange/mismatches/{id:\\d+}")
    config.add_route("exchange.mismatch.resolve", "/exchange/mismatches/{id:\\d+}/resolve")
    config.scan("lps_core.screens.exchange.views")
