"""Members' ID-number blind index and referrer index hold only the members who have one.

Every change of a member made through SQLAlchemy moves members.updated_at, the website's change
stamp, which ix_members_updated_at_id indexes; so no such change is a heap-only update, and each
writes an entry into every index of members. Most members have no referrer, and many no ID number:
their NULLs filled two of the five indexes. Partial indexes (WHERE ... IS NOT NULL) leave them out.
Look-ups by ID number (`id_number_index = :value`) and by referrer (`referred_by_id = :id`, the
referral ranking and the foreign key's check) imply NOT NULL, so they still use the indexes. At
1,000,000 members, 90% of them without a referrer and none with an ID number, `lps jobs tiers`
(441,721 member rows changed) took 15.3-15.8 s instead of 17.3-17.4 s (bench/README.md).

Revision ID: 0047
Revises: 0046
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0047'
down_revision = '0046'
branch_labels = None
depends_on = None

INDEXES = (('ix_members_id_number_index', 'id_number_index'), ('ix_members_referred_by_id', 'referred_by_id'))


def upgrade():
    for name, column in INDEXES:
        op.drop_index(name, table_name='members')
        where = sa.text(f'{column} IS NOT NULL')
        op.create_index(name, 'members', [column], postgresql_where=where, sqlite_where=where)


def downgrade():
    for name, column in INDEXES:
        op.drop_index(name, table_name='members')
        op.create_index(name, 'members', [column])
