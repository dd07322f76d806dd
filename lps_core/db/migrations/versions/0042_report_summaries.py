"""Reserved for what makes the reports answer in under 2 s at 1,000,000 members: filled in by the change that builds it.

Revision ID: 0042
Revises: 0041
Create Date: 2026-11-26
"""

revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
