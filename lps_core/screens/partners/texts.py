"""Texts of the partner screens that come from Python (flash messages), in the `lps_partners`
domain; see lps_core/screens/members/texts.py for why they name their domain."""
from lps_core.screens.shared import dgettext

CREATED = dgettext("lps_partners", "The partner is created.")
SUSPENDED = dgettext("lps_partners", "The partner is suspended: its outlets post nothing.")
REACTIVATED = dgettext("lps_partners", "The partner is active again.")
ENDED = dgettext("lps_partners", "The partner has ended. Its history stays.")
CONTRACT_ADDED = dgettext("lps_partners", "The contract version is added.")
CONTRACT_WITHDRAWN = dgettext("lps_partners", "The contract version is withdrawn.")
ADJUSTMENT_ADDED = dgettext("lps_partners", "The adjustment will appear on the next statement to close.")
CLOSED = dgettext("lps_partners", "The period is closed: its statement is stored for good.")
STANDING_DONE = {"suspend": SUSPENDED, "reactivate": REACTIVATED, "end": ENDED}

STANDINGS = {"active": dgettext("lps_partners", "active"), "suspended": dgettext("lps_partners", "suspended"),
             "ended": dgettext("lps_partners", "ended")}
KINDS = {"partner": dgettext("lps_partners", "partner merchant"),
         "franchise": dgettext("lps_partners", "franchise store")}
DIRECTIONS = {"from_partner": dgettext("lps_partners", "partner owes"),
              "to_partner": dgettext("lps_partners", "owed to partner")}
LINE_KINDS = {
    "earn": dgettext("lps_partners", "points earned"),
    "earn_reversal": dgettext("lps_partners", "earned points refunded"),
    "exchange_in": dgettext("lps_partners", "converted in"),
    "exchange_in_reversal": dgettext("lps_partners", "conversion in reversed"),
    "payment": dgettext("lps_partners", "paid with points"),
    "payment_refund": dgettext("lps_partners", "points payment refunded"),
    "exchange_out": dgettext("lps_partners", "converted out"),
    "exchange_out_reversal": dgettext("lps_partners", "conversion out reversed"),
    "benefit": dgettext("lps_partners", "co-branded benefit"),
    "adjustment": dgettext("lps_partners", "manual adjustment"),
}
