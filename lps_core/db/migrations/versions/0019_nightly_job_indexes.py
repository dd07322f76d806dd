"""Indexes for the nightly jobs (`lps jobs expire`, `lps jobs tiers`) at programme scale.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26
"""

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
