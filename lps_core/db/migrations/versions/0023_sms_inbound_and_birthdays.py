"""Inbound SMS commands and birthday greetings.

- sms_inbound: every message the SMS gateway delivered to the webhook (lps_core.sms), unique by
  its nonce or message id so that a replay is refused; the member matched, the command, its
  outcome and the redemption it made; no phone number;
- birthday_greetings: one row per member and year greeted by `lps jobs birthdays`
  (lps_core.birthdays), with the bonus points credited and their ledger entry.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_inbound',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('command', sa.String(length=16), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('redemption_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_sms_inbound_member_id_members')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_sms_inbound_redemption_id_redemptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_inbound')),
    sa.UniqueConstraint('nonce', name=op.f('uq_sms_inbound_nonce'))
    )
    op.create_index(op.f('ix_sms_inbound_member_id'), 'sms_inbound', ['member_id'], unique=False)
    op.create_table('birthday_greetings',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('greeted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_birthday_greetings_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_birthday_greetings_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', 'year', name=op.f('pk_birthday_greetings'))
    )


def downgrade():
    op.drop_table('birthday_greetings')
    op.drop_index(op.f('ix_sms_inbound_member_id'), table_name='sms_inbound')
    op.drop_table('sms_inbound')
