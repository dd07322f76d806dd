"""A point exchange for the example airline partner "PARTNER-AIR": its miles to LPS points and back.

RatioExchange(partner, partner_points, lps_points) says that `partner_points` of the partner's
points are worth `lps_points` LPS points (both positive integers). The plugin provides
PARTNER_AIR, where 2 miles are worth 1 LPS point. Both directions take and return integer
counts and round down, so a conversion never creates value: a remainder too small for one whole
point stays where it was. Negative, fractional, boolean or non-numeric counts raise ValueError.
"""
from zope.interface import implementer

from lps_core.contract import IN, IPointExchange, PermanentFailure, Quote, hookimpl


def _count(value, name) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number of points, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


@implementer(IPointExchange)
class RatioExchange:
    def __init__(self, partner: str, partner_points: int, lps_points: int):
        if not partner:
            raise ValueError("a point exchange needs the partner's code")
        for name, value in (("partner_points", partner_points), ("lps_points", lps_points)):
            if _count(value, name) == 0:
                raise ValueError(f"{name} of the exchange ratio must be greater than 0")
        self.partner = self.name = self.label = partner
        self.settings_schema = None
        self.partner_points = partner_points
        self.lps_points = lps_points

    def __repr__(self):
        return f"RatioExchange({self.partner!r}, {self.partner_points} partner = {self.lps_points} LPS)"

    def to_lps_points(self, partner_points):
        return _count(partner_points, "partner_points") * self.lps_points // self.partner_points

    def from_lps_points(self, lps_points):
        return _count(lps_points, "lps_points") * self.partner_points // self.lps_points

    def quote(self, direction, points, settings):
        if direction == IN:
            return Quote(direction, self.to_lps_points(points), points, f"{self.partner_points}:{self.lps_points}")
        return Quote(direction, points, self.from_lps_points(points), f"{self.lps_points}:{self.partner_points}")

    # Interim: this example converts only; its transfers come with the file-batch adapter.
    def transfer(self, transfer, settings):
        raise PermanentFailure("this example exchange converts only")

    def reverse(self, transfer, settings):
        raise PermanentFailure("this example exchange converts only")

    def statement(self, period_start, period_end, settings):
        return []


PARTNER_AIR = RatioExchange("PARTNER-AIR", partner_points=2, lps_points=1)


@hookimpl
def lps_point_exchanges():
    return [PARTNER_AIR]
