"""tier_changes without its foreign keys to tiers and tier_evaluations.

The tiers job writes up to one tier_changes row per member in a run (300,000 at 1,000,000 members),
and each row paid four foreign-key checks besides the member row's own. Three of them guard
nothing the code does not already guarantee:
- old_tier_id and new_tier_id are copied from members.tier_id (which keeps its foreign key) or
  from a tier row read in the same transaction, and tiers are never deleted, only retired
  (lps_core.tiers.configuration);
- evaluation_id is the id of the tier_evaluations row of the run writing the change, inserted
  before it in the job, and evaluation rows are never deleted.
tier_changes is an append-only history: nothing updates or deletes its rows. member_id keeps its
foreign key. See docs/tiers.md.

Revision ID: 0043
Revises: 0042
Create Date: 2026-11-26
"""
from alembic import op

revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None

KEYS = (('old_tier_id', 'tiers'), ('new_tier_id', 'tiers'), ('evaluation_id', 'tier_evaluations'))


def upgrade():
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        for column, table in KEYS:
            batch_op.drop_constraint(batch_op.f(f'fk_tier_changes_{column}_{table}'), type_='foreignkey')


def downgrade():
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        for column, table in KEYS:
            batch_op.create_foreign_key(batch_op.f(f'fk_tier_changes_{column}_{table}'), table, [column], ['id'])
