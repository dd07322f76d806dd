"""Card products (discount, stored value with bonus, uses, credit line, validity, PIN) and the
cashier's settlements with their tenders and refunds.

New NOT NULL columns of existing tables get server defaults, so cards and card types already
issued keep working as plain points cards. Accounts may now also be bonus value, uses or credit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('points', 'stored_value')"
NEW_KINDS = "kind IN ('points', 'stored_value', 'bonus_value', 'uses', 'credit')"


def upgrade():
    op.create_table('settlements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('bill_no', sa.String(length=64), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('gross_cents', sa.BigInteger(), nullable=False),
    sa.Column('discount_cents', sa.BigInteger(), nullable=False),
    sa.Column('charged_cents', sa.BigInteger(), nullable=False),
    sa.Column('earning_basis_cents', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('balances', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('discount_cents >= 0 AND charged_cents = gross_cents - discount_cents', name=op.f('ck_settlements_amounts')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_settlements_bill_id_bills')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_settlements_card_id_cards')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_settlements_member_id_members')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_settlements_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlements')),
    sa.UniqueConstraint('outlet_id', 'bill_no', name='uq_settlements_outlet_bill_no')
    )
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlements_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_settlements_member_id'), ['member_id'], unique=False)

    op.create_table('settlement_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=False),
    sa.Column('refund_no', sa.String(length=64), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('tenders', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('operator', sa.String(length=64), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_settlement_refunds_settlement_id_settlements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_refunds')),
    sa.UniqueConstraint('settlement_id', 'refund_no', name='uq_settlement_refunds_settlement_id')
    )
    with op.batch_alter_table('settlement_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlement_refunds_settlement_id'), ['settlement_id'], unique=False)

    op.create_table('settlement_tenders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=True),
    sa.Column('principal_cents', sa.BigInteger(), nullable=True),
    sa.Column('bonus_cents', sa.BigInteger(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('bonus_entry_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['bonus_entry_id'], ['ledger_entries.id'], name=op.f('fk_settlement_tenders_bonus_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_settlement_tenders_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_settlement_tenders_settlement_id_settlements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_tenders')),
    sa.UniqueConstraint('settlement_id', 'position', name='uq_settlement_tenders_settlement_id')
    )
    with op.batch_alter_table('card_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_rate', sa.Numeric(precision=5, scale=4), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('discount_overrides', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('stored_value', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('deposit_bonuses', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('initial_uses', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('uses_outlets', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('credit_limit_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('credit_warning_ratio', sa.Numeric(precision=4, scale=3), nullable=False, server_default='0.8'))
        batch_op.add_column(sa.Column('validity_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('anonymous', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('pin_required', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_outlet_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('credit_limit_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('pin_hash', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('pin_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('pin_locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('status_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cards_replaced_by_id_cards'), 'cards', ['replaced_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_cards_issued_outlet_id_outlets'), 'outlets', ['issued_outlet_id'], ['id'])



    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_accounts_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_accounts_kind'), sa.text(NEW_KINDS))


def downgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_accounts_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_accounts_kind'), sa.text(OLD_KINDS))
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cards_issued_outlet_id_outlets'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cards_replaced_by_id_cards'), type_='foreignkey')
        batch_op.drop_column('replaced_by_id')
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('status_reason')
        batch_op.drop_column('pin_locked_until')
        batch_op.drop_column('pin_failures')
        batch_op.drop_column('pin_hash')
        batch_op.drop_column('credit_limit_cents')
        batch_op.drop_column('valid_to')
        batch_op.drop_column('valid_from')
        batch_op.drop_column('issued_outlet_id')

    with op.batch_alter_table('card_types', schema=None) as batch_op:
        batch_op.drop_column('active')
        batch_op.drop_column('pin_required')
        batch_op.drop_column('anonymous')
        batch_op.drop_column('valid_to')
        batch_op.drop_column('valid_from')
        batch_op.drop_column('validity_days')
        batch_op.drop_column('credit_warning_ratio')
        batch_op.drop_column('credit_limit_cents')
        batch_op.drop_column('uses_outlets')
        batch_op.drop_column('initial_uses')
        batch_op.drop_column('deposit_bonuses')
        batch_op.drop_column('stored_value')
        batch_op.drop_column('discount_overrides')
        batch_op.drop_column('discount_rate')

    op.drop_table('settlement_tenders')
    with op.batch_alter_table('settlement_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlement_refunds_settlement_id'))

    op.drop_table('settlement_refunds')
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlements_member_id'))
        batch_op.drop_index(batch_op.f('ix_settlements_card_id'))

    op.drop_table('settlements')
