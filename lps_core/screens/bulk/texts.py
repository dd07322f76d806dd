"""Texts of the bulk exchange screens that come from Python (flash messages, form errors), in the
`lps_bulk` domain; see lps_core/screens/members/texts.py for why they name their domain."""
from lps_core.screens.shared import dgettext

DOMAIN = "lps_bulk"

NAV = dgettext("lps_bulk", "Data exchange")
PREVIEWED = dgettext("lps_bulk", "The file is previewed. Nothing is written until you confirm.")
RECOGNISED = dgettext("lps_bulk", "This file was imported before: nothing to do.")
RESOLVED = dgettext("lps_bulk", "The conflict is resolved.")
SKIPPED = dgettext("lps_bulk", "Every conflict left is skipped.")
CONFIRMED = dgettext("lps_bulk", "The import is confirmed and is being applied.")
DISCARDED = dgettext("lps_bulk", "The preview is discarded.")
CHOOSE_FILE = dgettext("lps_bulk", "choose a file")
