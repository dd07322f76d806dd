"""Thermal receipt printers.

- receipt_printers: an outlet's ESC/POS printer (network host:port, serial device and baud rate,
  or USB vendor:product), its paper (58mm or 80mm) and whether receipts print on settlement
  (lps_core.receipts.printers).

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('receipt_printers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('connection', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('baudrate', sa.Integer(), nullable=True),
    sa.Column('paper', sa.String(length=8), nullable=False),
    sa.Column('auto_print', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("connection IN ('network', 'serial', 'usb')", name=op.f('ck_receipt_printers_connection')),
    sa.CheckConstraint("paper IN ('58mm', '80mm')", name=op.f('ck_receipt_printers_paper')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_receipt_printers_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_printers')),
    sa.UniqueConstraint('outlet_id', name=op.f('uq_receipt_printers_outlet_id'))
    )


def downgrade():
    op.drop_table('receipt_printers')
