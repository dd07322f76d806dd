"""Staff security: operators' outlet scopes, failed sign-ins per client address, the audit log.

Operators made before roles were enforced were administrators of the whole group ("admin"):
they become "administrator" with every outlet in scope, so nobody is locked out by the upgrade.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('all_outlets', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE operators SET roles = 'administrator' WHERE roles IN ('', 'admin')")
    op.execute(sa.text("UPDATE operators SET all_outlets = :yes").bindparams(yes=True))

    op.create_table('operator_scopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=True),
    sa.Column('property_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(outlet_id IS NULL) <> (property_id IS NULL)', name=op.f('ck_operator_scopes_one_target')),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_operator_scopes_operator_id_operators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_operator_scopes_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], name=op.f('fk_operator_scopes_property_id_properties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_scopes'))
    )
    with op.batch_alter_table('operator_scopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_scopes_operator_id'), ['operator_id'], unique=False)

    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_address_at', ['address', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failures_at'), ['at'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('target_type', sa.String(length=64), nullable=True),
    sa.Column('target_id', sa.String(length=200), nullable=True),
    sa.Column('before', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('after', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('outlet_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("actor_kind IN ('operator', 'api_key', 'system')", name=op.f('ck_audit_log_actor_kind')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_audit_log_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor_name'), ['actor_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_outlet_id'), ['outlet_id'], unique=False)
        batch_op.create_index('ix_audit_log_target', ['target_type', 'target_id'], unique=False)


def downgrade():
    op.drop_table('audit_log')
    op.drop_table('login_failures')
    op.drop_table('operator_scopes')
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.drop_column('all_outlets')
    op.execute("UPDATE operators SET roles = 'admin' WHERE roles = 'administrator'")
