"""Reserved for card-reader tag ids registered on cards (drivers, lps_core.cashier look-up): filled in by the change that builds it.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-26
"""

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
