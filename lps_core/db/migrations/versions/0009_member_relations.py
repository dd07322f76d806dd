"""What the desk knows of a member: family members, preferences, the contact log; and enrolments
rejected in the approval queue (status 'rejected', with the reason in members.status_reason).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_reason', sa.String(length=500), nullable=True))
        batch_op.drop_constraint(op.f('ck_members_status'), type_='check')
        batch_op.create_check_constraint(
            'status', "status IN ('pending', 'active', 'dormant', 'suspended', 'closed', 'rejected')")

    op.create_table('member_family',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('relation', sa.String(length=50), nullable=False),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('relative_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_family_member_id_members')),
    sa.ForeignKeyConstraint(['relative_id'], ['members.id'], name=op.f('fk_member_family_relative_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_family'))
    )
    with op.batch_alter_table('member_family', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_family_member_id'), ['member_id'], unique=False)

    op.create_table('member_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_preferences_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_preferences')),
    sa.UniqueConstraint('member_id', 'key', name='uq_member_preferences_member_key')
    )

    op.create_table('member_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('operator_name', sa.String(length=100), nullable=False),
    sa.Column('contacted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('phone', 'email', 'sms', 'wechat', 'in_person', 'letter')",
                       name=op.f('ck_member_contacts_channel')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_contacts_member_id_members')),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_member_contacts_operator_id_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_contacts'))
    )
    with op.batch_alter_table('member_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_contacts_member_id'), ['member_id'], unique=False)


def downgrade():
    op.drop_table('member_contacts')
    op.drop_table('member_preferences')
    op.drop_table('member_family')
    op.execute("UPDATE members SET status = 'closed' WHERE status = 'rejected'")
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_members_status'), type_='check')
        batch_op.create_check_constraint(
            'status', "status IN ('pending', 'active', 'dormant', 'suspended', 'closed')")
        batch_op.drop_column('status_reason')
