"""Coupons (lps_core.coupons):

- coupon_types: amount off, percent off, a free item or a points multiplier, with validity (dates
  or days from issue), minimum spend, outlets and uses per coupon;
- coupons: one member's coupon with its unguessable code, unique per (type, member, source,
  source_ref) so that issuing is idempotent;
- coupon_redemptions: each use, by a settlement's coupon tender or on a posted bill (multiplier).

Revision ID: 0037
Revises: 0036
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coupon_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value_cents', sa.BigInteger(), nullable=True),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=True),
    sa.Column('multiplier', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('min_spend_cents', sa.BigInteger(), nullable=False),
    sa.Column('outlets', sa.JSON(), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'item') = (sku IS NOT NULL)", name=op.f('ck_coupon_types_item_sku')),
    sa.CheckConstraint("(kind = 'multiplier') = (multiplier IS NOT NULL)", name=op.f('ck_coupon_types_multiplier_value')),
    sa.CheckConstraint("(kind = 'percent') = (percent IS NOT NULL)", name=op.f('ck_coupon_types_percent_value')),
    sa.CheckConstraint("(kind IN ('amount', 'item')) = (value_cents IS NOT NULL)", name=op.f('ck_coupon_types_value_cents')),
    sa.CheckConstraint("kind IN ('amount', 'percent', 'item', 'multiplier')", name=op.f('ck_coupon_types_kind')),
    sa.CheckConstraint('(valid_days IS NULL) <> (valid_to IS NULL)', name=op.f('ck_coupon_types_validity')),
    sa.CheckConstraint('min_spend_cents >= 0', name=op.f('ck_coupon_types_min_spend_not_negative')),
    sa.CheckConstraint('uses >= 1', name=op.f('ck_coupon_types_uses_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_types')),
    sa.UniqueConstraint('code', name=op.f('uq_coupon_types_code'))
    )
    op.create_table('coupons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('coupon_type_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=100), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uses_left', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.CheckConstraint("status IN ('issued', 'used', 'void')", name=op.f('ck_coupons_status')),
    sa.CheckConstraint('uses_left >= 0', name=op.f('ck_coupons_uses_left_not_negative')),
    sa.CheckConstraint('valid_to > valid_from', name=op.f('ck_coupons_validity')),
    sa.ForeignKeyConstraint(['coupon_type_id'], ['coupon_types.id'], name=op.f('fk_coupons_coupon_type_id_coupon_types')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_coupons_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('code', name=op.f('uq_coupons_code')),
    sa.UniqueConstraint('coupon_type_id', 'member_id', 'source', 'source_ref', name='uq_coupons_issue_key')
    )
    op.create_index('ix_coupons_member_status', 'coupons', ['member_id', 'status'], unique=False)
    op.create_table('coupon_redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('coupon_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_coupon_redemptions_bill_id_bills')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_redemptions_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_coupon_redemptions_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_coupon_redemptions_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_coupon_redemptions_settlement_id_settlements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_redemptions')),
    sa.UniqueConstraint('coupon_id', 'bill_id', name='uq_coupon_redemptions_coupon_bill'),
    sa.UniqueConstraint('settlement_id', 'position', name='uq_coupon_redemptions_settlement_tender')
    )
    op.create_index(op.f('ix_coupon_redemptions_bill_id'), 'coupon_redemptions', ['bill_id'], unique=False)
    op.create_index(op.f('ix_coupon_redemptions_coupon_id'), 'coupon_redemptions', ['coupon_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_coupon_redemptions_coupon_id'), table_name='coupon_redemptions')
    op.drop_index(op.f('ix_coupon_redemptions_bill_id'), table_name='coupon_redemptions')
    op.drop_table('coupon_redemptions')
    op.drop_index('ix_coupons_member_status', table_name='coupons')
    op.drop_table('coupons')
    op.drop_table('coupon_types')
