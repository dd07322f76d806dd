"""The account's kind on each ledger entry, and the entries' time index covering what reports sum.

The points, stored-value and credit reports select one kind of account's entries for a period.
Before this, each of their statements joined the period's entries to `accounts` to learn the
kind: at 1,000,000 members, 2,000,000 accounts hashed for a month's 210,000 entries, several
times per report. Now the ledger service copies the account's kind onto the entry when it posts
(`ledger_entries.account_kind`), existing entries are filled in here, and the index on
`occurred_at` carries (on PostgreSQL, INCLUDE) the columns the reports read, so a month's entries
of a kind are an index-only scan. NULL stays allowed: a writer that does not copy the kind (other than
the ledger service and the expiry job) leaves it to the reports, which then read the account's
(lps_core.ledger.models.entry_account_kind).

Revision ID: 0042
Revises: 0041
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None

INDEX = 'ix_ledger_entries_occurred_at'
COVERED = ['account_kind', 'kind', 'amount', 'outlet_id', 'account_id']


def upgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_kind', sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':  # a join: a lookup per row is slow over millions
        op.execute("UPDATE ledger_entries SET account_kind = accounts.kind FROM accounts "
                   "WHERE accounts.id = ledger_entries.account_id")
    else:
        op.execute("UPDATE ledger_entries SET account_kind = "
                   "(SELECT accounts.kind FROM accounts WHERE accounts.id = ledger_entries.account_id)")
    op.drop_index(INDEX, table_name='ledger_entries')
    op.create_index(INDEX, 'ledger_entries', ['occurred_at'], postgresql_include=COVERED)


def downgrade():
    op.drop_index(INDEX, table_name='ledger_entries')
    op.create_index(INDEX, 'ledger_entries', ['occurred_at'])
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_column('account_kind')
