"""Reserved for terminals and their keys (lps_core.terminals): filled in by the change that builds it.

Revision ID: 0035
Revises: 0034
Create Date: 2026-11-26
"""

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
