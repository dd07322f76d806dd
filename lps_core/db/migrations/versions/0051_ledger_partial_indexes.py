"""The ledger's indexes by reversed entry and by bill hold only the entries that have one.

Every entry written adds a row to each of the ledger's indexes, NULLs included. Nearly no entry
reverses another (only reversals do), and none of the entries that no bill caused has a bill
(redemptions, expiries, adjustments, deposits): their NULLs filled these two indexes. Partial
indexes (WHERE ... IS NOT NULL) leave them out, so each earning writes one index entry fewer, and
each expiry entry two fewer. Look-ups by reversed entry (`reverses_id = :id`, a reversal's cap and
the foreign key's check) and by bill (`bill_id = :id`, a join from a bill to its entries) imply NOT
NULL, so they still use the indexes, generic plans and a nested loop's inner side included.

What it saves is size and a write per entry, not time that shows: at 5,000,000 entries the two
indexes take 86 MB instead of 125 MB (reverses_id's 33 MB were all NULLs), and the expiry job's
catch-up run (674,047 entries) took 37.7-38.1 s with them partial, 38.0-39.0 s whole
(bench/README.md).

Revision ID: 0051
Revises: 0050
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0051'
down_revision = '0050'
branch_labels = None
depends_on = None

INDEXES = (('ix_ledger_entries_reverses_id', 'reverses_id'), ('ix_ledger_entries_bill_id', 'bill_id'))


def upgrade():
    for name, column in INDEXES:
        op.drop_index(name, table_name='ledger_entries')
        where = sa.text(f'{column} IS NOT NULL')
        op.create_index(name, 'ledger_entries', [column], postgresql_where=where, sqlite_where=where)


def downgrade():
    for name, column in INDEXES:
        op.drop_index(name, table_name='ledger_entries')
        op.create_index(name, 'ledger_entries', [column])
