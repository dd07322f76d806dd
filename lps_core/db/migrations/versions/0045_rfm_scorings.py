"""The nightly RFM scoring: rfm_scorings (one per run, as of a day's end) and rfm_scores (each
member's R, F, M, quadrant and place in the quadrant's list).

Scoring ranks every scored member three times (NTILE(5) by recency, visits and spend). At
1,000,000 members that took 4.3 s for the RFM screen and 6-6.5 s for a segment on RFM quadrants
(bench/README.md), against targets of 2 s and 1 s. `lps jobs rfm` scores once a night; the screen
and segments then read the stored cells and a quadrant's page by (scoring_id, quadrant, place).
rfm_scores has no foreign keys: it is written whole from members' rows by the statement that scores
them, and their checks took 13 s of a 25 s scoring at 1,000,000 members.

Revision ID: 0045
Revises: 0044
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = '0045'
down_revision = '0044'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rfm_scorings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('window_months', sa.SmallInteger(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('members', sa.BigInteger(), nullable=False),
    sa.Column('cells', sa.JSON(none_as_null=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfm_scorings'))
    )
    op.create_table('rfm_scores',
    sa.Column('scoring_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('quadrant', sa.String(length=8), nullable=False),
    sa.Column('place', sa.Integer(), nullable=False),
    sa.Column('r', sa.SmallInteger(), nullable=False),
    sa.Column('f', sa.SmallInteger(), nullable=False),
    sa.Column('m', sa.SmallInteger(), nullable=False),
    sa.Column('visits', sa.BigInteger(), nullable=False),
    sa.Column('spend', sa.BigInteger(), nullable=False),
    sa.Column('last_visit', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scoring_id', 'member_id', name=op.f('pk_rfm_scores'))
    )
    op.create_index('ix_rfm_scores_scoring_id_quadrant_place', 'rfm_scores', ['scoring_id', 'quadrant', 'place'],
                    unique=True, postgresql_include=['member_id'])


def downgrade():
    op.drop_index('ix_rfm_scores_scoring_id_quadrant_place', table_name='rfm_scores')
    op.drop_table('rfm_scores')
    op.drop_table('rfm_scorings')
