"""Texts of the appeal screens that come from Python (flash messages), in the `lps_appeals` domain;
see lps_core/screens/members/texts.py for why they name their domain."""
from lps_core.screens.shared import dgettext

DOMAIN = "lps_appeals"

FILED = dgettext("lps_appeals", "The appeal is filed.")
APPROVED = dgettext("lps_appeals", "The appeal is approved and the member will be told.")
REJECTED = dgettext("lps_appeals", "The appeal is rejected and the member will be told.")
OUTLET_REQUIRED = dgettext("lps_appeals", "choose one of your outlets")
TIME_OF_DAY = dgettext("lps_appeals", "must be a time of day such as 19:30")
