"""Tables for receipt layouts and receipt prints.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('receipt_layouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('header_text', sa.Text(), nullable=True),
    sa.Column('footer_text', sa.Text(), nullable=True),
    sa.Column('logo', sa.Text(), nullable=True),
    sa.Column('paper', sa.String(length=8), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("paper IN ('80mm', 'a4')", name=op.f('ck_receipt_layouts_paper')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_receipt_layouts_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_layouts')),
    sa.UniqueConstraint('outlet_id', name=op.f('uq_receipt_layouts_outlet_id'))
    )
    op.create_table('receipt_prints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=False),
    sa.Column('copy_no', sa.Integer(), nullable=False),
    sa.Column('paper', sa.String(length=8), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('printed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('copy_no >= 0', name=op.f('ck_receipt_prints_copy_no')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'],
                            name=op.f('fk_receipt_prints_settlement_id_settlements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_prints')),
    sa.UniqueConstraint('settlement_id', 'copy_no', name='uq_receipt_prints_settlement_id_copy_no')
    )


def downgrade():
    op.drop_table('receipt_prints')
    op.drop_table('receipt_layouts')
