"""Exchange reconciliation: the mismatches staff resolve.

- exchange_mismatches: each difference between a partner's statement and LPS's transfers that
  reconciliation found (lps_core.exchange.reconciliation), one row per partner, direction,
  reference and problem, with the period it was found in, and once staff resolve it, how
  (adjusted, settled, cancelled, accepted), the ledger entry the resolution posted, the reason,
  who and when.

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exchange_mismatches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('problem', sa.String(length=20), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('lps_partner_points', sa.BigInteger(), nullable=True),
    sa.Column('statement_partner_points', sa.BigInteger(), nullable=True),
    sa.Column('lps_points', sa.BigInteger(), nullable=True),
    sa.Column('partner_member_no', sa.String(length=64), nullable=True),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.Column('adjustment_points', sa.BigInteger(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_exchange_mismatches_direction')),
    sa.CheckConstraint("problem IN ('missing_at_partner', 'missing_at_lps', 'amount_differs', 'open_at_lps')",
                       name=op.f('ck_exchange_mismatches_problem')),
    sa.CheckConstraint("status IN ('open', 'resolved', 'cleared')", name=op.f('ck_exchange_mismatches_status')),
    sa.CheckConstraint("resolution IS NULL OR resolution IN ('adjusted', 'settled', 'cancelled', 'accepted')",
                       name=op.f('ck_exchange_mismatches_resolution')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_exchange_mismatches_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_exchange_mismatches_member_id_members')),
    sa.ForeignKeyConstraint(['transfer_id'], ['point_transfers.id'], name=op.f('fk_exchange_mismatches_transfer_id_point_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_mismatches')),
    sa.UniqueConstraint('partner', 'direction', 'reference', 'problem', name=op.f('uq_exchange_mismatches_partner'))
    )
    op.create_index('ix_exchange_mismatches_partner_period', 'exchange_mismatches', ['partner', 'period_start'],
                    unique=False)
    op.create_index(op.f('ix_exchange_mismatches_transfer_id'), 'exchange_mismatches', ['transfer_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_exchange_mismatches_transfer_id'), table_name='exchange_mismatches')
    op.drop_index('ix_exchange_mismatches_partner_period', table_name='exchange_mismatches')
    op.drop_table('exchange_mismatches')
