"""Reserved for bulk import batches with preview and confirm (lps_core.bulk): filled in by the change that builds it.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-26
"""

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
