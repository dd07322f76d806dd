"""Texts of the exchange screens that come from Python (flash messages), in the `lps_exchange`
domain; see lps_core/screens/members/texts.py for why they name their domain."""
from lps_core.screens.shared import dgettext

DOMAIN = "lps_exchange"

EXCHANGES = dgettext("lps_exchange", "Exchanges")
RESOLVED = dgettext("lps_exchange", "The mismatch is resolved.")
ALL_OUTLETS_ONLY = dgettext("lps_exchange", "Only an operator of every outlet reconciles a partner's statement.")


def reconciled(count):
    return dgettext("lps_exchange", "Reconciled: ${count} mismatches found.", mapping={"count": count})


def asked_again(status):
    return dgettext("lps_exchange", "The partner was asked again: the transfer is ${status}.",
                    mapping={"status": status})
