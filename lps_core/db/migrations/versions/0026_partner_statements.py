"""Reserved for partner statements, periods and adjustments (lps_core.partners): filled in by the change that builds it.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-26
"""

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
