"""What a signed-in operator may do: their roles' permissions, within their outlet scope."""
from dataclasses import dataclass

from lps_core.errors import Forbidden
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


@dataclass(frozen=True)
class OutletScope:
    """Where a caller acts: the whole programme, or the outlets in `outlet_ids`. An API key acts for
    its one outlet (`api_key_scope`); an OperatorIdentity has the same two attributes."""

    all_outlets: bool
    outlet_ids: frozenset[int]

    def covers_outlet(self, outlet_id) -> bool:
        return self.all_outlets or outlet_id in self.outlet_ids


def api_key_scope(outlet) -> OutletScope:
    """The scope of an API key: the one outlet it belongs to (an OutletContext or an Outlet)."""
    return OutletScope(False, frozenset({outlet.id}))


def may_write_member(scope, home_outlet_id) -> bool:
    """Whether a caller with `scope` (an OperatorIdentity, an OutletScope) may change a member whose
    enrolment outlet is `home_outlet_id`: their profile, their family, the status of their cards,
    their points.

    Reading a member, and serving them (look-up, earning, redemption, preferences, the contact log),
    is open to every outlet. Changing who they are or what they hold is for the outlet they enrolled
    at and for programme-wide staff: a caller scoped to outlets may change a member enrolled at one
    of those outlets, or a member enrolled at no outlet (on the website, or by head office), who
    belongs to the programme as a whole. The screens and the API ask this one function."""
    if scope is None:
        return False
    return home_outlet_id is None or scope.covers_outlet(home_outlet_id)


MEMBER_ELSEWHERE = "member enrolled at another outlet: only that outlet's staff or programme-wide staff may change it"


def require_member_write(scope, member_id, home_outlet_id) -> None:
    """Raise Forbidden (403, naming the member) unless may_write_member allows the change."""
    if not may_write_member(scope, home_outlet_id):
        raise Forbidden(f"member {member_id} was enrolled at another outlet: only that outlet's staff or "
                        f"programme-wide staff may change the member", {"id": MEMBER_ELSEWHERE})
