"""Indexes that count segments and member analytics at 1,000,000 members (bench/README.md,
`segments.py` and `analytics.py`): they read members' behaviour, which the earn path writes.

- member_activity (month, member_id), on PostgreSQL INCLUDE (bills, stays, spend_cents): the
  trailing window's visits and spend per member (RFM, the churn warning, segments on visits and
  spend, the lifecycle's active members) are one index-only range scan of the window's months
  instead of a walk of the primary key (member_id, month) over every member's history;
- bills (outlet_id, occurred_at, member_id): "a bill at one of these outlets in the window" is an
  index-only range scan per outlet;
- PostgreSQL only: a GIN index (jsonb_path_ops) on the bills' item lines, `CAST(items AS jsonb)`,
  for the bills that have any: "bought from these categories" first finds the bills whose lines
  contain the category by containment (@>) and checks only those, instead of expanding the item
  lines of every bill of the window. SQLite keeps the plain expansion.

Write cost, on the earn path (its statements unchanged): one more index entry per bill, and one per
bill with items in the GIN index (its pending list, merged by autovacuum); member_activity's
update of bills and spend_cents now also writes its covering entry (the update is no longer HOT).

Revision ID: 0041
Revises: 0040
Create Date: 2026-11-26
"""
from alembic import op

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None

ACTIVITY = 'ix_member_activity_month_member_id'
OUTLET_BILLS = 'ix_bills_outlet_id_occurred_at_member_id'
ITEMS = 'ix_bills_items_jsonb'


def upgrade():
    op.create_index(ACTIVITY, 'member_activity', ['month', 'member_id'],
                    postgresql_include=['bills', 'stays', 'spend_cents'])
    op.create_index(OUTLET_BILLS, 'bills', ['outlet_id', 'occurred_at', 'member_id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"CREATE INDEX {ITEMS} ON bills USING gin ((CAST(items AS jsonb)) jsonb_path_ops) "
                   "WHERE items IS NOT NULL")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP INDEX {ITEMS}")
    op.drop_index(OUTLET_BILLS, table_name='bills')
    op.drop_index(ACTIVITY, table_name='member_activity')
