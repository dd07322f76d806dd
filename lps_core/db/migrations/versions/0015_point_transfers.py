"""Point transfers to and from exchange partners (lps_core.exchange).

- point_transfers: one row per (partner, direction, reference); the partner's reference is the
  idempotency key, so a resend never posts twice.
- status: pending or unknown while the partner has not confirmed (an OUT transfer's points are held
  by its debit), done once confirmed, failed when refused for good (an OUT debit reversed), reversed
  when undone; entry_id and reversal_entry_id are the ledger entries that moved the points.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('point_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('partner_member_no', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('lps_points', sa.BigInteger(), nullable=False),
    sa.Column('partner_points', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('partner_reference', sa.String(length=64), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('reversal_entry_id', sa.Integer(), nullable=True),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_point_transfers_direction')),
    sa.CheckConstraint("status IN ('pending', 'done', 'failed', 'unknown', 'reversed')",
                       name=op.f('ck_point_transfers_status')),
    sa.CheckConstraint('lps_points > 0 AND partner_points > 0', name=op.f('ck_point_transfers_points_positive')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_point_transfers_attempts_not_negative')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_point_transfers_member_id_members')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_point_transfers_card_id_cards')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'],
                            name=op.f('fk_point_transfers_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['reversal_entry_id'], ['ledger_entries.id'],
                            name=op.f('fk_point_transfers_reversal_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_point_transfers_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_transfers')),
    sa.UniqueConstraint('partner', 'direction', 'reference', name=op.f('uq_point_transfers_partner')),
    )
    op.create_index('ix_point_transfers_member_requested', 'point_transfers', ['member_id', 'requested_at'],
                    unique=False)
    op.create_index('ix_point_transfers_partner_status', 'point_transfers', ['partner', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_point_transfers_partner_status', table_name='point_transfers')
    op.drop_index('ix_point_transfers_member_requested', table_name='point_transfers')
    op.drop_table('point_transfers')
