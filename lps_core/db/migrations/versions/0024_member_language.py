"""The language a member reads their messages in.

- members.language: "zh_CN" or "en", or NULL (lps.messages.default_language applies); set to the
  portal's language when the member applies or signs in there. lps_core.messages.outbox.enqueue
  renders each message in it.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('members') as batch:
        batch.drop_column('language')
