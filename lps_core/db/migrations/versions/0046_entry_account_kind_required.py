"""Every ledger entry carries its account's kind: ledger_entries.account_kind becomes NOT NULL.

Migration 0042 copied the kind onto each entry but left it nullable, for writers other than the
ledger service and the expiry job; the reports then read an entry's kind as "the entry's, or its
account's" through a correlated subquery. At 1,000,000 members that subquery made every points,
stored-value and credit statement parallel-restricted and estimated at a hundred times its cost:
the points report for a month took 3.0 s, 2.4 s without it (bench/README.md). Every writer in LPS
now copies the kind (the expiry job's reinstatement was the last that did not), so the column is
required, entries left without it are filled in from their accounts here, and the reports select
a kind by the entry's own column. A writer that leaves it out now fails at once, instead of
making every report slower.

Revision ID: 0046
Revises: 0045
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0046'
down_revision = '0045'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':  # a join: a lookup per row is slow over millions
        op.execute("UPDATE ledger_entries SET account_kind = accounts.kind FROM accounts "
                   "WHERE accounts.id = ledger_entries.account_id AND ledger_entries.account_kind IS NULL")
    else:
        op.execute("UPDATE ledger_entries SET account_kind = (SELECT accounts.kind FROM accounts "
                   "WHERE accounts.id = ledger_entries.account_id) WHERE account_kind IS NULL")
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.alter_column('account_kind', existing_type=sa.String(length=16), nullable=False)


def downgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.alter_column('account_kind', existing_type=sa.String(length=16), nullable=True)
