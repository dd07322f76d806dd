"""Vouchers: printed instruments of a face value that a settlement's voucher tender consumes once.

- vouchers.code: the printed reference, unique; the till names it in the tender's `reference`.
- status: issued -> redeemed (with redeemed_at and the settlement) or void (with voided_at); a
  full refund of the settlement puts a redeemed voucher back to issued.
- outlet_id: the outlet that issued it and alone takes it, or NULL for a programme-wide voucher.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vouchers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('face_value_cents', sa.BigInteger(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settlement_id', sa.Integer(), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint("status IN ('issued', 'redeemed', 'void')", name=op.f('ck_vouchers_status')),
    sa.CheckConstraint('face_value_cents > 0', name=op.f('ck_vouchers_face_value_positive')),
    sa.CheckConstraint('valid_to > valid_from', name=op.f('ck_vouchers_validity')),
    sa.CheckConstraint("(status = 'redeemed') = (settlement_id IS NOT NULL AND redeemed_at IS NOT NULL)",
                       name=op.f('ck_vouchers_redeemed_by_a_settlement')),
    sa.CheckConstraint("(status = 'void') = (voided_at IS NOT NULL)", name=op.f('ck_vouchers_voided_at')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_vouchers_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_vouchers_settlement_id_settlements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('code', name=op.f('uq_vouchers_code'))
    )
    op.create_index(op.f('ix_vouchers_settlement_id'), 'vouchers', ['settlement_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_vouchers_settlement_id'), table_name='vouchers')
    op.drop_table('vouchers')
