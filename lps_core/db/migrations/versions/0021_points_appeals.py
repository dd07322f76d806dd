"""Points appeals (积分申诉): a member's claim that a bill is missing from their points or was
posted with the wrong amount, and how staff settled it.

- points_appeals: (outlet, bill no.) name the bill as the till does; status open -> approved
  (resolution posted, linked or corrected, with the bill, its earn entry and any correction entry)
  or rejected (with a reason); due_at is the SLA clock; opened_by says who filed it.
- receipt/receipt_type: the receipt photo when kept in the database; receipt_file when kept under
  lps.appeals.receipt_dir.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('points_appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('bill_no', sa.String(length=64), nullable=False),
    sa.Column('bill_date', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('receipt_type', sa.String(length=32), nullable=True),
    sa.Column('receipt', sa.LargeBinary(), nullable=True),
    sa.Column('receipt_file', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('opened_by', sa.String(length=8), nullable=False),
    sa.Column('opened_by_operator_id', sa.Integer(), nullable=True),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_operator_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('correction_entry_id', sa.Integer(), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'approved', 'rejected')", name=op.f('ck_points_appeals_status')),
    sa.CheckConstraint("opened_by IN ('member', 'staff', 'api')", name=op.f('ck_points_appeals_opened_by')),
    sa.CheckConstraint("resolution IS NULL OR resolution IN ('posted', 'linked', 'corrected')",
                       name=op.f('ck_points_appeals_resolution')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_points_appeals_amount_positive')),
    sa.CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name=op.f('ck_points_appeals_resolved_at')),
    sa.CheckConstraint("(status = 'approved') = (resolution IS NOT NULL)",
                       name=op.f('ck_points_appeals_approved_with_resolution')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_points_appeals_member_id_members')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_points_appeals_card_id_cards')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_points_appeals_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['opened_by_operator_id'], ['operators.id'],
                            name=op.f('fk_points_appeals_opened_by_operator_id_operators')),
    sa.ForeignKeyConstraint(['resolved_by_operator_id'], ['operators.id'],
                            name=op.f('fk_points_appeals_resolved_by_operator_id_operators')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_points_appeals_bill_id_bills')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'],
                            name=op.f('fk_points_appeals_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['correction_entry_id'], ['ledger_entries.id'],
                            name=op.f('fk_points_appeals_correction_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_appeals')),
    sa.UniqueConstraint('request_key', name=op.f('uq_points_appeals_request_key'))
    )
    op.create_index(op.f('ix_points_appeals_member_id'), 'points_appeals', ['member_id'], unique=False)
    op.create_index(op.f('ix_points_appeals_bill_id'), 'points_appeals', ['bill_id'], unique=False)
    op.create_index('ix_points_appeals_status_due', 'points_appeals', ['status', 'due_at'], unique=False)
    op.create_index('ix_points_appeals_outlet_bill', 'points_appeals', ['outlet_id', 'bill_no'], unique=False)


def downgrade():
    op.drop_index('ix_points_appeals_outlet_bill', table_name='points_appeals')
    op.drop_index('ix_points_appeals_status_due', table_name='points_appeals')
    op.drop_index(op.f('ix_points_appeals_bill_id'), table_name='points_appeals')
    op.drop_index(op.f('ix_points_appeals_member_id'), table_name='points_appeals')
    op.drop_table('points_appeals')
