"""A partial index of the ledger's debits by time, for the points report's breakage.

Breakage is expired / (expired + redeemed) over the trailing months (lps.reports.breakage_months,
12 by default): only debits count, and most entries are credits (every earning). The report read
every entry of those months through the covering time index (0042): at 1,000,000 members, 2.5
million entries and 0.7-0.8 s of each points report. The debits alone are a fifth of them here:
0.15 s (bench/README.md). Write cost: one index entry per debit (a redemption, a reversal that
takes points back, an expiry); an earning, a credit, adds none.

Revision ID: 0049
Revises: 0048
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0049'
down_revision = '0048'
branch_labels = None
depends_on = None

NAME = 'ix_ledger_entries_debits_occurred_at'


def upgrade():
    debits = sa.text('amount < 0')
    op.create_index(NAME, 'ledger_entries', ['occurred_at'], postgresql_include=['account_kind', 'kind', 'amount'],
                    postgresql_where=debits, sqlite_where=debits)


def downgrade():
    op.drop_index(NAME, table_name='ledger_entries')
