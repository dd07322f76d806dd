"""The PARTNER-AIR point exchange: integer conversions at a fixed ratio, rounded down."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zope.interface.verify import verifyObject

from lps_core.contract import IPointExchange
from lps_partner_exchange import PARTNER_AIR, RatioExchange


def test_the_exchange_is_registered_from_its_entry_point(plugins):
    exchange = plugins.point_exchanges["PARTNER-AIR"]
    assert verifyObject(IPointExchange, exchange)
    assert (exchange.partner_points, exchange.lps_points) == (2, 1)
    assert "partner_exchange" in plugins.plugin_names()


@pytest.mark.parametrize(("miles", "points"), [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2), (10_001, 5000)])
def test_partner_miles_to_lps_points_round_down(miles, points):
    assert PARTNER_AIR.to_lps_points(miles) == points


@pytest.mark.parametrize(("points", "miles"), [(0, 0), (1, 2), (5000, 10_000)])
def test_lps_points_to_partner_miles(points, miles):
    assert PARTNER_AIR.from_lps_points(points) == miles


def test_an_uneven_ratio_rounds_down_both_ways():
    exchange = RatioExchange("PARTNER-X", partner_points=3, lps_points=2)
    assert [exchange.to_lps_points(n) for n in range(7)] == [0, 0, 1, 2, 2, 3, 4]
    assert [exchange.from_lps_points(n) for n in range(5)] == [0, 1, 3, 4, 6]


@pytest.mark.parametrize("bad", [-1, 1.5, 2.0, "10", Decimal("4"), None, True])
def test_negative_or_non_integer_counts_are_rejected(bad):
    with pytest.raises(ValueError):
        PARTNER_AIR.to_lps_points(bad)
    with pytest.raises(ValueError):
        PARTNER_AIR.from_lps_points(bad)


@pytest.mark.parametrize(("partner", "partner_points", "lps_points"), [
    ("", 2, 1), ("P", 0, 1), ("P", 2, 0), ("P", -2, 1), ("P", 1.5, 1),
])
def test_a_bad_ratio_is_rejected(partner, partner_points, lps_points):
    with pytest.raises(ValueError):
        RatioExchange(partner, partner_points, lps_points)


@given(
    partner_points=st.integers(1, 1000),
    lps_points=st.integers(1, 1000),
    amount=st.integers(0, 10**9),
)
def test_a_round_trip_never_creates_points(partner_points, lps_points, amount):
    exchange = RatioExchange("PARTNER-X", partner_points, lps_points)
    assert exchange.to_lps_points(exchange.from_lps_points(amount)) <= amount
    assert exchange.from_lps_points(exchange.to_lps_points(amount)) <= amount
