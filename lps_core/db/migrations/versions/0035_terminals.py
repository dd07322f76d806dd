"""Card-reading terminals and their swipes.

- terminals: a cashier's PC with a card reader, per outlet, with a key stored as the SHA-256 of its
  secret (found by its prefix), revoked rather than deleted (lps_core.terminals).
- terminal_operators: the operators whose cashier screens a terminal feeds.
- terminal_swipes: swipes in flight from a terminal to a cashier screen, unique by the agent's
  swipe id per terminal (at-most-once delivery), with when they expire and who took them.

Revision ID: 0035
Revises: 0034
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('terminals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_terminals_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terminals')),
    sa.UniqueConstraint('prefix', name=op.f('uq_terminals_prefix'))
    )
    op.create_index(op.f('ix_terminals_outlet_id'), 'terminals', ['outlet_id'], unique=False)
    op.create_table('terminal_operators',
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_terminal_operators_operator_id_operators')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_terminal_operators_terminal_id_terminals')),
    sa.PrimaryKeyConstraint('terminal_id', 'operator_id', name=op.f('pk_terminal_operators'))
    )
    op.create_index(op.f('ix_terminal_operators_operator_id'), 'terminal_operators', ['operator_id'], unique=False)
    op.create_table('terminal_swipes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('swipe_id', sa.String(length=64), nullable=False),
    sa.Column('card_no', sa.String(length=32), nullable=True),
    sa.Column('tag_id', sa.String(length=32), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('taken_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('card_no IS NOT NULL OR tag_id IS NOT NULL', name=op.f('ck_terminal_swipes_card_or_tag')),
    sa.ForeignKeyConstraint(['taken_by'], ['operators.id'], name=op.f('fk_terminal_swipes_taken_by_operators')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_terminal_swipes_terminal_id_terminals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terminal_swipes')),
    sa.UniqueConstraint('terminal_id', 'swipe_id', name=op.f('uq_terminal_swipes_terminal_id'))
    )
    op.create_index(op.f('ix_terminal_swipes_expires_at'), 'terminal_swipes', ['expires_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_terminal_swipes_expires_at'), table_name='terminal_swipes')
    op.drop_table('terminal_swipes')
    op.drop_index(op.f('ix_terminal_operators_operator_id'), table_name='terminal_operators')
    op.drop_table('terminal_operators')
    op.drop_index(op.f('ix_terminals_outlet_id'), table_name='terminals')
    op.drop_table('terminals')
