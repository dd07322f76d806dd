"""Reserved for indexes of the nightly jobs (`lps jobs expire`, `lps jobs tiers`) at programme
scale; none was needed, so this revision changes nothing.

The candidate was a partial index on point_lots (expires_at) WHERE remaining > 0, to find the
accounts with points due without probing each account of a batch. It is not added: PostgreSQL
counts a column named in an index's predicate as indexed, so every change of `remaining` (each
debit, each expiry) would stop being a heap-only update and would write every index of point_lots
again, undoing what migration 0003's fillfactor bought. The expiry job instead skips accounts with
no balance and probes ix_point_lots_account_expiry for the rest (bench/README.md, `jobs.py`).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26
"""

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
