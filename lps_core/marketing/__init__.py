"""Database marketing: segments (saved filters over members, evaluated when used) and campaigns
(a message to a segment through the outbox, with an optional coupon or bonus points and a held-out
control group)."""
