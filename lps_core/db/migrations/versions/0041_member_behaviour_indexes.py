"""Reserved for indexes (or summary rows) that count segments and member analytics at 1,000,000 members: filled in by the change that builds it.

Revision ID: 0041
Revises: 0040
Create Date: 2026-11-26
"""

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
