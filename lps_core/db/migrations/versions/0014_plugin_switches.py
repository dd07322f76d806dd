"""Plugin switches: a tender, promotion kind, exchange partner or channel on or off, with its
settings, for the programme, a property or an outlet (lps_core.plugins.switches).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plugin_switches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('component_kind', sa.String(length=20), nullable=False),
    sa.Column('component_name', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=True),
    sa.CheckConstraint("scope IN ('programme', 'property', 'outlet')", name=op.f('ck_plugin_switches_scope')),
    sa.CheckConstraint("(scope = 'programme') = (scope_id = 0)",
                       name=op.f('ck_plugin_switches_programme_scope_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_switches')),
    sa.UniqueConstraint('component_kind', 'component_name', 'scope', 'scope_id',
                        name=op.f('uq_plugin_switches_component_kind')),
    )


def downgrade():
    op.drop_table('plugin_switches')
