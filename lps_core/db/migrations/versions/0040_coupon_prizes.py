"""Reserved for coupons as a promotion's prize and each coupon type's refund rule: filled in by the change that builds it.

Revision ID: 0040
Revises: 0039
Create Date: 2026-11-26
"""

revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
