"""The one rule of a partner's standing at the till: the outlets of a partner or franchise store
that is suspended or has ended post nothing (bills, settlements, points as payment, refunds), and
say so with a 422 that names the outlet. The API checks it on the key's cached look-up, which reads
the property's status in the statement that finds the key (no query of its own); the desk checks it
on the outlet it acts for."""
from lps_core.errors import Unprocessable

ACTIVE = "active"


def require_posting(outlet_code, standing, property_code=None):
    """422 naming `outlet` unless the outlet's property is active."""
    if standing == ACTIVE:
        return
    owner = f"partner {property_code}" if property_code else "its partner"
    raise Unprocessable(f"outlet {outlet_code} belongs to {owner}, which is {standing}: its outlets post nothing",
                        {"outlet": f"{outlet_code}: {owner} is {standing}"})
