"""A till's postings name the API key that sent them: bills, their refunds (reversals), settlements
and their refunds get `api_key_id`. With the outlet, the time and the content they already hold,
the posting is its own audit record, and an API posting writes no second row to audit_log. Postings
made at the desk or before this migration have none.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

TABLES = ('bills', 'bill_refunds', 'settlements', 'settlement_refunds')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_api_key_id_api_keys'), 'api_keys',
                                        ['api_key_id'], ['id'])


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_api_key_id_api_keys'), type_='foreignkey')
            batch_op.drop_column('api_key_id')
