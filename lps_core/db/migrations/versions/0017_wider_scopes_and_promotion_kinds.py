"""Room for what plugins add: an API key's scopes grow with each feature's scopes (1,000 characters
instead of 200), and a promotion's kind holds any promotion kind a plugin names (64 characters,
as a plugin switch names it, instead of 16).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.String(length=200), type_=sa.String(length=1000),
                              existing_nullable=False)
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=16), type_=sa.String(length=64),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=64), type_=sa.String(length=16),
                              existing_nullable=False)
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.String(length=1000), type_=sa.String(length=200),
                              existing_nullable=False)
