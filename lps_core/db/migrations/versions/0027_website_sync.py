"""Reserved for the website exchange: change stamps for incremental sync (lps_core.website): filled in by the change that builds it.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-26
"""

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
