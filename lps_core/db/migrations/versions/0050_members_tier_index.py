"""An index of the members by tier, with their ids and statuses: the narrow columns that reports
and segments join a million members by.

- The points report's breakdown by tier sums the points balances, and the period's entries, by
  their members' tiers: a hash join of a million accounts with a million members.
- Every segment selects members by status, and one on visits and spend joins the members who
  qualify to them.

Read from `members` itself, each read the whole table (316 MB at 1,000,000 members, the encrypted
personal data included) for those columns; this index is a tenth of that, read by an index-only
scan. At 1,000,000 members the report's statement took 1.0-1.2 s instead of 1.6-2.0 s, and the
segment on visits and spend 0.70-0.74 s instead of 0.82 s (bench/README.md).

Write cost: one index entry per member row written other than in place. A change of tier or status
already writes every index of `members` (its change stamp's index moves with it): the tiers job took
15.8 s instead of 15.3-15.4 s. The earn path's touch of last_activity_at stays a heap-only update,
as none of these columns moves. Should the change stamp ever leave `members` (so that a tier change
could be a heap-only update, bench/README.md), this index would stand in the way of that: weigh it
against the reports then.

Revision ID: 0050
Revises: 0049
Create Date: 2026-11-27
"""
from alembic import op

revision = '0050'
down_revision = '0049'
branch_labels = None
depends_on = None

NAME = 'ix_members_tier_id_id'


def upgrade():
    op.create_index(NAME, 'members', ['tier_id', 'id'], postgresql_include=['status'])


def downgrade():
    op.drop_index(NAME, table_name='members')
