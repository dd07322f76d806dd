"""Reserved for co-branded cards and paid membership (lps_core.cards): filled in by the change that builds it.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-26
"""

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
