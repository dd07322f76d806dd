"""Reserved for tier_changes without the foreign keys the tiers job pays for: filled in by the change that builds it.

Revision ID: 0043
Revises: 0042
Create Date: 2026-11-26
"""

revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
