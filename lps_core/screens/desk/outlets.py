"""The outlet a desk screen acts for, as the cashier and rewards services take it. Which outlet that
is comes from lps_core.screens.shared.chosen_outlet."""
from lps_core.earning.services import OutletContext
from lps_core.outlets.models import Outlet


def context_of(outlet: Outlet) -> OutletContext:
    return OutletContext(outlet.id, outlet.code)
