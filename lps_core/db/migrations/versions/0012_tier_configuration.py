"""Tiers as configuration: each tier says how its qualification criteria combine, and a tier can be
retired.

- tiers.qualification_mode: 'any' (one criterion reached is enough, what every tier did before) or
  'all' (every criterion named must be reached, e.g. 100 nights and a spend of 23,000.00).
- tiers.retired_at: when the tier was retired. A retired tier keeps its row (members' tier history,
  floors and audit entries refer to it) but has no rank, so rank becomes nullable; the unique
  constraint on rank still holds among the tiers in use.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qualification_mode', sa.String(length=3), nullable=False, server_default='any'))
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('rank', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(batch_op.f('ck_tiers_qualification_mode'),
                                         "qualification_mode IN ('any', 'all')")
        batch_op.create_check_constraint(batch_op.f('ck_tiers_retired_without_rank'),
                                         "(retired_at IS NULL) = (rank IS NOT NULL)")


def downgrade():
    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_tiers_retired_without_rank'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_tiers_qualification_mode'), type_='check')
    # A retired tier gets a rank again, out of the way of the tiers in use (the older schema has none).
    op.execute("UPDATE tiers SET rank = -id WHERE rank IS NULL")
    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.alter_column('rank', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('retired_at')
        batch_op.drop_column('qualification_mode')
