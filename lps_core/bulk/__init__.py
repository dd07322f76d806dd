"""Bulk exchange with the hotel's website and other systems (先浏览，确认后再传): exports of members,
cards and points balances, and imports of members, card numbers and points adjustments that are
previewed, resolved and confirmed before anything is written (see docs/import-export.md)."""
