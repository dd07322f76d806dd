"""The tiers as earning sees them (ITierLookup): the programme's tiers, cached in-process for the
check on every bill; the tier a member held at a past moment; the tier a bill lifts a member to; the window a bill's activity counts in."""
import threading
import time

from zope.interface import implementer

from lps_core.components import ITierLookup
from lps_core.tiers.services import load_tiers, tier_held_at, tier_reached_by_bill, tier_settings, tier_window


@implementer(ITierLookup)
class TierLookup:
    def __init__(self, settings, cache_seconds=5.0):
        self.settings = settings
        self.bill_earns_at_new_tier = tier_settings(settings).upgrade_bill_earns_at == "new"
        self.cache_seconds = cache_seconds
        self._cached = (0.0, [])
        self._lock = threading.Lock()

    def all(self, db):
        now = time.monotonic()
        if self._cached[0] > now:
            return self._cached[1]
        tiers = load_tiers(db)
        if self.cache_seconds > 0:
            with self._lock:
                self._cached = (now + self.cache_seconds, tiers)
        return tiers

    def held_at(self, db, member_id, moment):
        return tier_held_at(db, member_id, moment)

    def reached_by_bill(self, db, plugins, member_id, moment, tiers, counters):
        return tier_reached_by_bill(db, plugins, self.settings, member_id, moment, tiers, counters)

    def window(self, moment):
        return tier_window(self.settings, moment)
