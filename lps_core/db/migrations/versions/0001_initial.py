"""Initial schema: outlets, members, cards, the ledger and its lots, bills, API keys, operators.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('card_number_counters',
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('next_serial', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', name=op.f('pk_card_number_counters'))
    )
    op.create_table('card_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_types')),
    sa.UniqueConstraint('code', name=op.f('uq_card_types_code'))
    )
    op.create_table('operators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operators')),
    sa.UniqueConstraint('username', name=op.f('uq_operators_username'))
    )
    op.create_table('properties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("kind IN ('hotel', 'partner')", name=op.f('ck_properties_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_properties')),
    sa.UniqueConstraint('code', name=op.f('uq_properties_code'))
    )
    op.create_table('tiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiers')),
    sa.UniqueConstraint('code', name=op.f('uq_tiers_code')),
    sa.UniqueConstraint('rank', name=op.f('uq_tiers_rank'))
    )
    op.create_table('outlets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('formula', sa.String(length=64), nullable=False),
    sa.Column('formula_params', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_outlets_property_id_properties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlets')),
    sa.UniqueConstraint('code', name=op.f('uq_outlets_code'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_api_keys_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('tier_id', sa.Integer(), nullable=True),
    sa.Column('enrolled_outlet_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('desk', 'web')", name=op.f('ck_members_channel')),
    sa.CheckConstraint("status IN ('pending', 'active', 'suspended', 'closed')", name=op.f('ck_members_status')),
    sa.ForeignKeyConstraint(['enrolled_outlet_id'], ['outlets.id'], name=op.f('fk_members_enrolled_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['tier_id'], ['tiers.id'], name=op.f('fk_members_tier_id_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_phone'), ['phone'], unique=False)

    op.create_table('cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_no', sa.String(length=32), nullable=False),
    sa.Column('card_type_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('unissued', 'pending', 'active', 'frozen', 'lost', 'replaced', 'cancelled')", name=op.f('ck_cards_status')),
    sa.ForeignKeyConstraint(['card_type_id'], ['card_types.id'], name=op.f('fk_cards_card_type_id_card_types')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_cards_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
    sa.UniqueConstraint('card_no', name=op.f('uq_cards_card_no'))
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cards_status'), ['status'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("kind IN ('points', 'stored_value')", name=op.f('ck_accounts_kind')),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_accounts_balance_not_negative')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_accounts_card_id_cards')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_accounts_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('card_id', 'kind', name='uq_accounts_card_kind'),
    sa.UniqueConstraint('member_id', 'kind', name='uq_accounts_member_kind')
    )
    op.create_table('bills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('bill_no', sa.String(length=64), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_bills_card_id_cards')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_bills_member_id_members')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_bills_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bills')),
    sa.UniqueConstraint('outlet_id', 'bill_no', name='uq_bills_outlet_bill_no')
    )
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bills_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_member_id'), ['member_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('business_key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('outlet_id', sa.Integer(), nullable=True),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('breakdown', sa.JSON(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_ledger_entries_account_id_accounts')),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_ledger_entries_bill_id_bills')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_ledger_entries_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_entries.id'], name=op.f('fk_ledger_entries_reverses_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('business_key', name=op.f('uq_ledger_entries_business_key'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_reverses_id'), ['reverses_id'], unique=False)

    op.create_table('bill_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('refund_no', sa.String(length=64), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_bill_refunds_bill_id_bills')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_bill_refunds_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_refunds')),
    sa.UniqueConstraint('bill_id', 'refund_no', name='uq_bill_refunds_bill_refund_no')
    )
    op.create_table('point_lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('remaining >= 0 AND remaining <= amount', name=op.f('ck_point_lots_remaining_in_range')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_point_lots_account_id_accounts')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_point_lots_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_lots')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_point_lots_entry_id'))
    )
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.create_index('ix_point_lots_account_expiry', ['account_id', 'expires_at'], unique=False)

    op.create_table('lot_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_lot_allocations_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['lot_id'], ['point_lots.id'], name=op.f('fk_lot_allocations_lot_id_point_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_allocations'))
    )
    with op.batch_alter_table('lot_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lot_allocations_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lot_allocations_lot_id'), ['lot_id'], unique=False)



def downgrade():
    with op.batch_alter_table('lot_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lot_allocations_lot_id'))
        batch_op.drop_index(batch_op.f('ix_lot_allocations_entry_id'))

    op.drop_table('lot_allocations')
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_point_lots_account_expiry')

    op.drop_table('point_lots')
    op.drop_table('bill_refunds')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_reverses_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_bill_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_account_id'))

    op.drop_table('ledger_entries')
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bills_member_id'))
        batch_op.drop_index(batch_op.f('ix_bills_card_id'))

    op.drop_table('bills')
    op.drop_table('accounts')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_status'))
        batch_op.drop_index(batch_op.f('ix_cards_member_id'))

    op.drop_table('cards')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_phone'))

    op.drop_table('members')
    op.drop_table('api_keys')
    op.drop_table('outlets')
    op.drop_table('tiers')
    op.drop_table('properties')
    op.drop_table('operators')
    op.drop_table('card_types')
    op.drop_table('card_number_counters')
