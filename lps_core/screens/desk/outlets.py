"""The outlet a desk screen acts for, as the cashier and rewards services take it. Which outlet that
is comes from lps_core.screens.shared.chosen_outlet."""
from lps_core.earning.services import OutletContext
from lps_core.outlets.models import Outlet
from lps_core.partners.standing import require_posting


def context_of(outlet: Outlet, *, posting=True) -> OutletContext:
    """The outlet as the services take it; for a posting (not a reprint), 422 naming the outlet when
    its partner is suspended or has ended."""
    if posting:
        require_posting(outlet.code, outlet.property.status, outlet.property.code)
    return OutletContext(outlet.id, outlet.code)
