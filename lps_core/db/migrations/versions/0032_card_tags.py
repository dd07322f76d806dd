"""RFID/NFC tag ids registered on cards.

- cards.tag_id: the id of the tag a card carries or is paired with, as the tag reader's driver
  gives it (contract.TagRead, e.g. 10 upper-case hex digits); unique, NULL for a card without one.
  The cashier's look-up finds a card by it (lps_core.cashier.lookup), through its unique index.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cards') as batch:
        batch.add_column(sa.Column('tag_id', sa.String(length=32), nullable=True))
        batch.create_unique_constraint(op.f('uq_cards_tag_id'), ['tag_id'])


def downgrade():
    with op.batch_alter_table('cards') as batch:
        batch.drop_constraint(op.f('uq_cards_tag_id'), type_='unique')
        batch.drop_column('tag_id')
