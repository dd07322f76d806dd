"""Reserved for thermal receipt printers per outlet (lps_core.receipts): filled in by the change that builds it.

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-26
"""

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
