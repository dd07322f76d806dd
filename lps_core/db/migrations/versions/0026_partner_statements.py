"""Partner statements: closed periods, their lines, and manual adjustments (lps_core.partners).

- partner_statements: one row per partner and closed period (dates in the programme's time zone,
  the end exclusive) with the totals of its lines, stored when staff close the period;
- partner_statement_lines: the lines of a closed statement, each naming the posting behind it
  (a ledger entry, a co-branded benefit cost or a manual adjustment), unique per posting so that
  nothing is settled twice;
- partner_adjustments: corrections of what a partner and LPS owe each other, made by staff with a
  reason, shown on the next statement to be closed.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partner_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('points_issued', sa.BigInteger(), nullable=False),
    sa.Column('points_redeemed', sa.BigInteger(), nullable=False),
    sa.Column('benefit_cost', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('due_from_partner', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('due_to_partner', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('net', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_partner_statements_period_not_empty')),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_partner_statements_property_id_properties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_statements'))
    )
    op.create_index('uq_partner_statements_property_start', 'partner_statements', ['property_id', 'period_start'], unique=True)
    op.create_table('partner_statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outlet_code', sa.String(length=32), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('price', sa.Numeric(precision=12, scale=6), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("direction IN ('from_partner', 'to_partner')", name=op.f('ck_partner_statement_lines_direction')),
    sa.CheckConstraint("source IN ('entry', 'benefit', 'adjustment')", name=op.f('ck_partner_statement_lines_source')),
    sa.ForeignKeyConstraint(['contract_id'], ['partner_contracts.id'], name=op.f('fk_partner_statement_lines_contract_id_partner_contracts')),
    sa.ForeignKeyConstraint(['statement_id'], ['partner_statements.id'], name=op.f('fk_partner_statement_lines_statement_id_partner_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_statement_lines'))
    )
    op.create_index(op.f('ix_partner_statement_lines_statement_id'), 'partner_statement_lines', ['statement_id'], unique=False)
    op.create_index('uq_partner_statement_lines_source', 'partner_statement_lines', ['source', 'source_id'], unique=True)
    op.create_table('partner_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_partner_adjustments_amount_positive')),
    sa.CheckConstraint("direction IN ('from_partner', 'to_partner')", name=op.f('ck_partner_adjustments_direction')),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_partner_adjustments_property_id_properties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_adjustments'))
    )
    op.create_index(op.f('ix_partner_adjustments_property_id'), 'partner_adjustments', ['property_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_partner_adjustments_property_id'), table_name='partner_adjustments')
    op.drop_table('partner_adjustments')
    op.drop_index('uq_partner_statement_lines_source', table_name='partner_statement_lines')
    op.drop_index(op.f('ix_partner_statement_lines_statement_id'), table_name='partner_statement_lines')
    op.drop_table('partner_statement_lines')
    op.drop_index('uq_partner_statements_property_start', table_name='partner_statements')
    op.drop_table('partner_statements')
