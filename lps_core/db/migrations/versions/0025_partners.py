"""Partner merchants and franchise stores: their standing, their contracts, co-branded benefits.

- properties: kind may be 'franchise'; status (active, suspended, ended), joined_at, ended_at, and
  exchange_component (the IPointExchange component of a partner's own programme);
- partner_contracts: a partner's terms (price of a point issued, value of a point redeemed, share
  of co-branded benefits it funds), one row per version and effective date;
- partner_benefit_costs: each benefit a co-branded card gave, keyed by its posting, for the
  partner's statement.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('properties') as batch:
        batch.drop_constraint(op.f('ck_properties_kind'), type_='check')
        batch.create_check_constraint('kind', "kind IN ('hotel', 'partner', 'franchise')")
        batch.add_column(sa.Column('status', sa.String(length=16), server_default='active', nullable=False))
        batch.add_column(sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('exchange_component', sa.String(length=64), nullable=True))
        batch.create_check_constraint('status', "status IN ('active', 'suspended', 'ended')")
    op.create_table('partner_contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('issue_cost_per_point', sa.Numeric(precision=12, scale=6), nullable=False),
    sa.Column('redeem_value_per_point', sa.Numeric(precision=12, scale=6), nullable=False),
    sa.Column('cobrand_share', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('cobrand_share >= 0 AND cobrand_share <= 1', name=op.f('ck_partner_contracts_cobrand_share_fraction')),
    sa.CheckConstraint('issue_cost_per_point >= 0 AND redeem_value_per_point >= 0', name=op.f('ck_partner_contracts_prices_not_negative')),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_partner_contracts_property_id_properties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_contracts'))
    )
    op.create_index('uq_partner_contracts_property_effective', 'partner_contracts', ['property_id', 'effective_from'], unique=True)
    op.create_table('partner_benefit_costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('discount', 'points')", name=op.f('ck_partner_benefit_costs_kind')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_partner_benefit_costs_card_id_cards')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_partner_benefit_costs_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_partner_benefit_costs_member_id_members')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_partner_benefit_costs_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_partner_benefit_costs_property_id_properties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_benefit_costs')),
    sa.UniqueConstraint('key', name=op.f('uq_partner_benefit_costs_key'))
    )
    op.create_index('ix_partner_benefit_costs_property_occurred', 'partner_benefit_costs', ['property_id', 'occurred_at'], unique=False)


def downgrade():
    op.drop_index('ix_partner_benefit_costs_property_occurred', table_name='partner_benefit_costs')
    op.drop_table('partner_benefit_costs')
    op.drop_index('uq_partner_contracts_property_effective', table_name='partner_contracts')
    op.drop_table('partner_contracts')
    with op.batch_alter_table('properties') as batch:
        batch.drop_constraint(op.f('ck_properties_status'), type_='check')
        batch.drop_column('exchange_component')
        batch.drop_column('ended_at')
        batch.drop_column('joined_at')
        batch.drop_column('status')
        batch.drop_constraint(op.f('ck_properties_kind'), type_='check')
        batch.create_check_constraint('kind', "kind IN ('hotel', 'partner')")
