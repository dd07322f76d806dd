"""What a signed-in operator may do: their roles' permissions, within their outlet scope."""
from dataclasses import dataclass

from lps_core.operators.permissions import Permission
from lps_core.operators.roles import permissions_of


@dataclass(frozen=True)
class OperatorIdentity:
    """The signed-in operator as the screens see it; `outlet_ids` is the resolved scope (the
    outlets named, plus every outlet of the properties named), unused when `all_outlets`."""

    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    must_change_password: bool
    all_outlets: bool
    outlet_ids: frozenset[int]

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def covers_outlet(self, outlet_id) -> bool:
        return self.all_outlets or outlet_id in self.outlet_ids


def operator_may(operator, permission, outlet_id=None) -> bool:
    """Whether `operator` (an OperatorIdentity) holds `permission`, at `outlet_id` when one is given."""
    if operator is None or operator.must_change_password or permission not in operator.permissions:
        return False
    return outlet_id is None or operator.covers_outlet(outlet_id)
