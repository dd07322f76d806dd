"""Co-branded cards and paid membership (lps_core.cards).

- card_types: partner_property_id (a co-branded type's partner, which funds its discount and
  points multiplier); serial_from and serial_to (the type's own range of card numbers after its
  prefix); membership_fee_cents, membership_months and membership_reminder_days (a paid
  membership: its fee, its validity and the reminder before it ends);
- card_number_counters: prefix widened to 32 characters, so a type with its own range counts in a
  row keyed "<prefix>:<serial_from>";
- membership_periods: each paid period of a membership (the sale or a renewal) with the settlement
  that took its fee, its cancellation refund and the reminder sent before it ends.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('card_types') as batch:
        batch.add_column(sa.Column('partner_property_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('serial_from', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('serial_to', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('membership_fee_cents', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('membership_months', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('membership_reminder_days', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_card_types_partner_property_id_properties'), 'properties',
                                 ['partner_property_id'], ['id'])
        batch.create_check_constraint(
            'serial_range', 'serial_from IS NULL AND serial_to IS NULL OR serial_from >= 1 AND serial_to >= serial_from')
        batch.create_check_constraint(
            'membership', 'membership_fee_cents IS NULL OR membership_fee_cents > 0 AND membership_months >= 1')
    with op.batch_alter_table('card_number_counters') as batch:
        batch.alter_column('prefix', existing_type=sa.String(length=8), type_=sa.String(length=32),
                           existing_nullable=False)
    op.create_table('membership_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('card_type_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('sale_no', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fee_cents', sa.BigInteger(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=False),
    sa.Column('refund_cents', sa.BigInteger(), nullable=False),
    sa.Column('settlement_refund_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("kind IN ('sale', 'renewal')", name=op.f('ck_membership_periods_kind')),
    sa.CheckConstraint("status IN ('paid', 'cancelled')", name=op.f('ck_membership_periods_status')),
    sa.CheckConstraint('ends_at > starts_at AND fee_cents > 0 AND refund_cents >= 0 AND refund_cents <= fee_cents',
                       name=op.f('ck_membership_periods_amounts')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_membership_periods_card_id_cards')),
    sa.ForeignKeyConstraint(['card_type_id'], ['card_types.id'], name=op.f('fk_membership_periods_card_type_id_card_types')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_membership_periods_member_id_members')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_membership_periods_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_membership_periods_settlement_id_settlements')),
    sa.ForeignKeyConstraint(['settlement_refund_id'], ['settlement_refunds.id'], name=op.f('fk_membership_periods_settlement_refund_id_settlement_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_periods')),
    sa.UniqueConstraint('outlet_id', 'sale_no', name='uq_membership_periods_outlet_sale_no')
    )
    op.create_index(op.f('ix_membership_periods_card_id'), 'membership_periods', ['card_id'], unique=False)
    op.create_index(op.f('ix_membership_periods_member_id'), 'membership_periods', ['member_id'], unique=False)
    op.create_index('ix_membership_periods_ends_at', 'membership_periods', ['ends_at'], unique=False)


def downgrade():
    op.drop_index('ix_membership_periods_ends_at', table_name='membership_periods')
    op.drop_index(op.f('ix_membership_periods_member_id'), table_name='membership_periods')
    op.drop_index(op.f('ix_membership_periods_card_id'), table_name='membership_periods')
    op.drop_table('membership_periods')
    with op.batch_alter_table('card_number_counters') as batch:
        batch.alter_column('prefix', existing_type=sa.String(length=32), type_=sa.String(length=8),
                           existing_nullable=False)
    with op.batch_alter_table('card_types') as batch:
        batch.drop_constraint(op.f('ck_card_types_membership'), type_='check')
        batch.drop_constraint(op.f('ck_card_types_serial_range'), type_='check')
        batch.drop_constraint(op.f('fk_card_types_partner_property_id_properties'), type_='foreignkey')
        batch.drop_column('membership_reminder_days')
        batch.drop_column('membership_months')
        batch.drop_column('membership_fee_cents')
        batch.drop_column('serial_to')
        batch.drop_column('serial_from')
        batch.drop_column('partner_property_id')
