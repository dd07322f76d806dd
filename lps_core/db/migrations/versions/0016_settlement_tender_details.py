"""Settlement tenders of any plugin: the kind column holds any tender's name (up to 64 characters,
as a plugin switch names it), and `details` keeps what a tender recorded when it was taken (for
example the points a points tender spent, or a folio reference), handed back to it on a refund.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('settlement_tenders', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=16), type_=sa.String(length=64),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('settlement_tenders', schema=None) as batch_op:
        batch_op.drop_column('details')
        batch_op.alter_column('kind', existing_type=sa.String(length=64), type_=sa.String(length=16),
                              existing_nullable=False)
