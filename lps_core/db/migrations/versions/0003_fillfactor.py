"""Leave room in the pages of the tables whose rows are updated in place, on PostgreSQL.

accounts (every posting moves a balance), point_lots (debits and expiry empty them) and members
(tier and lifecycle changes) are updated far more often than their indexed columns change. With
free space in a page, PostgreSQL writes the new row version there as a heap-only tuple and skips
every index. It applies to pages written from now on. SQLite has no such setting.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TABLES = ("accounts", "point_lots", "members")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 85)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
