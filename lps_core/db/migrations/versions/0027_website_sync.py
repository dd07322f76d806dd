"""The website exchange: change stamps for incremental sync, sign-ups by the website's reference,
and portal handover tokens (lps_core.website).

- members, bills, settlements, redemptions: updated_at, the change stamp the website's sync lists
  page by, with an index on (updated_at, id); ledger_entries, which never change, get the index on
  (created_at, id). Rows that exist already are stamped with the time of the migration: a website
  that synced before it then receives them once more, rather than missing one that changed;
- website_signups: a sign-up sent by the website, unique by the website's reference, with the
  member it made and the fingerprint of its details (a resend replays it);
- portal_handovers: a single-use, short-lived ticket that signs a member the website has signed in
  in to the portal; only the SHA-256 of its random part is kept.

On SQLite a column added to a table with rows cannot default to CURRENT_TIMESTAMP: it gets a
constant default there, and SQLAlchemy writes now() in every INSERT (the models' `default`).

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

STAMPED = ('members', 'bills', 'settlements', 'redemptions')


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in STAMPED:
        default = sa.text("'2000-01-01 00:00:00.000000'") if sqlite else sa.text('now()')
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), server_default=default,
                                       nullable=False))
        if sqlite:
            op.execute(f"UPDATE {table} SET updated_at = strftime('%Y-%m-%d %H:%M:%f000', 'now')")
        op.create_index(f'ix_{table}_updated_at_id', table, ['updated_at', 'id'], unique=False)
    op.create_index('ix_ledger_entries_created_at_id', 'ledger_entries', ['created_at', 'id'], unique=False)
    op.create_table('website_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_website_signups_api_key_id_api_keys')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_website_signups_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_website_signups')),
    sa.UniqueConstraint('reference', name=op.f('uq_website_signups_reference'))
    )
    op.create_index(op.f('ix_website_signups_member_id'), 'website_signups', ['member_id'], unique=False)
    op.create_table('portal_handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('next_path', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_portal_handovers_api_key_id_api_keys')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_portal_handovers_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_handovers')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_portal_handovers_token_hash'))
    )
    op.create_index(op.f('ix_portal_handovers_expires_at'), 'portal_handovers', ['expires_at'], unique=False)
    op.create_index(op.f('ix_portal_handovers_member_id'), 'portal_handovers', ['member_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_portal_handovers_member_id'), table_name='portal_handovers')
    op.drop_index(op.f('ix_portal_handovers_expires_at'), table_name='portal_handovers')
    op.drop_table('portal_handovers')
    op.drop_index(op.f('ix_website_signups_member_id'), table_name='website_signups')
    op.drop_table('website_signups')
    op.drop_index('ix_ledger_entries_created_at_id', table_name='ledger_entries')
    for table in reversed(STAMPED):
        op.drop_index(f'ix_{table}_updated_at_id', table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column('updated_at')
