"""Tiers: qualification, immediate upgrades, annual re-evaluation, floors, purchases, lifecycle."""
