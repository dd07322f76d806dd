"""member_activity's covering index turned round and widened: (member_id, month) INCLUDE (bills,
stays, spend_cents, points, nights) instead of 0041's (month, member_id) INCLUDE (bills, stays,
spend_cents).

Every reader of a trailing window sums it per member (RFM, the churn warning, segments on visits
and spend, referrals, the tiers job's batches by member id) or walks each member's months in order
(the lifecycle's active members). In member order the window is one index-only scan that feeds the
per-member sums as it goes; in month order the same rows had to be hashed by member first. At
1,000,000 members (bench/README.md, analytics.py) the window's sums took 0.8 s instead of 3.6 s
and the churn warning 3.4 s instead of 8.1 s. Points and nights are covered too, for the tiers
job, whose batches sum all four qualifying counters: its dry run took 5.1-5.6 s instead of 6.7-7.5 s.

The earn path writes what it wrote before: one covering entry per update of a member's month.
SQLite keeps no covering columns, so there the index repeats the primary key, as 0041's did.

Revision ID: 0044
Revises: 0043
Create Date: 2026-11-26
"""
from alembic import op

revision = '0044'
down_revision = '0043'
branch_labels = None
depends_on = None

OLD = 'ix_member_activity_month_member_id'
NEW = 'ix_member_activity_member_id_month'


def upgrade():
    op.drop_index(OLD, table_name='member_activity')
    op.create_index(NEW, 'member_activity', ['member_id', 'month'],
                    postgresql_include=['bills', 'stays', 'spend_cents', 'points', 'nights'])


def downgrade():
    op.drop_index(NEW, table_name='member_activity')
    op.create_index(OLD, 'member_activity', ['month', 'member_id'], postgresql_include=['bills', 'stays', 'spend_cents'])
