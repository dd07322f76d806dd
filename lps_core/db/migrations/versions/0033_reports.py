"""Reserved for indexes for the reports (lps_core.reports): filled in by the change that builds it.

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-26
"""

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
