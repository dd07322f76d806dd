"""The members' portal (lps_core.portal): members' passwords, one-time codes, portal sessions and
the failed attempts that throttle guessing.

- member_credentials: one argon2 password hash per member, with its lock-out after failures;
- portal_codes: one-time codes for signing in, resetting a password or claiming a card, stored as
  argon2 hashes, single-use (used_at), short-lived (expires_at), with a count of wrong tries;
- portal_sessions: the SHA-256 of each signed-in member's cookie token, so that a session can be
  ended for good (sign-out, a password change, a card reported lost);
- portal_failures: failed attempts per client address and per member, counted over a window.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('member_credentials',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_credentials_member_id_members'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_credentials'))
    )
    op.create_table('portal_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('code_hash', sa.String(length=200), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
              nullable=False),
    sa.CheckConstraint("purpose IN ('sign_in', 'reset', 'claim')", name=op.f('ck_portal_codes_purpose')),
    sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f('ck_portal_codes_channel')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_portal_codes_member_id_members'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_codes'))
    )
    op.create_index('ix_portal_codes_member_purpose', 'portal_codes', ['member_id', 'purpose', 'created_at'])
    op.create_table('portal_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_portal_sessions_member_id_members'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_portal_sessions_token_hash'))
    )
    op.create_index(op.f('ix_portal_sessions_member_id'), 'portal_sessions', ['member_id'])
    op.create_index(op.f('ix_portal_sessions_last_seen_at'), 'portal_sessions', ['last_seen_at'])
    op.create_table('portal_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_portal_failures_member_id_members'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_failures'))
    )
    op.create_index('ix_portal_failures_address_at', 'portal_failures', ['address', 'at'])
    op.create_index('ix_portal_failures_member_at', 'portal_failures', ['member_id', 'at'])
    op.create_index(op.f('ix_portal_failures_at'), 'portal_failures', ['at'])


def downgrade():
    op.drop_table('portal_failures')
    op.drop_table('portal_sessions')
    op.drop_table('portal_codes')
    op.drop_table('member_credentials')
