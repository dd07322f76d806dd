"""Reports: indexes on the time columns the reports range over.

- settlements.occurred_at, bills.occurred_at, ledger_entries.occurred_at,
  settlement_refunds.created_at, bill_refunds.created_at, redemptions.redeemed_at: every report
  reads one period of them (lps_core.reports);
- settlements.bill_id: the sales and the transactions search count a bill once, as its settlement,
  by asking whether a settlement carries it.

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-26
"""
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_settlements_occurred_at', 'settlements', 'occurred_at'),
    ('ix_settlements_bill_id', 'settlements', 'bill_id'),
    ('ix_settlement_refunds_created_at', 'settlement_refunds', 'created_at'),
    ('ix_bills_occurred_at', 'bills', 'occurred_at'),
    ('ix_bill_refunds_created_at', 'bill_refunds', 'created_at'),
    ('ix_ledger_entries_occurred_at', 'ledger_entries', 'occurred_at'),
    ('ix_redemptions_redeemed_at', 'redemptions', 'redeemed_at'),
)


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(op.f(name), table, [column], unique=False)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(op.f(name), table_name=table)
