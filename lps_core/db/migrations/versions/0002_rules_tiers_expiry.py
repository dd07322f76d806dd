"""Versioned earning rules, promotions, tier qualification and history, expiry runs and warnings.

The outlets' formula and parameters move into version 1 of each outlet's earning rules, in force
from the beginning of time, so bills already posted keep the rule they were earned under.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('expiry_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_key', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_account_id', sa.BigInteger(), nullable=False),
    sa.Column('accounts', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expiry_runs')),
    sa.UniqueConstraint('run_key', name=op.f('uq_expiry_runs_run_key'))
    )
    op.create_table('promotions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outlets', sa.JSON(), nullable=True),
    sa.Column('categories', sa.JSON(), nullable=True),
    sa.Column('skus', sa.JSON(), nullable=True),
    sa.Column('tiers', sa.JSON(), nullable=True),
    sa.Column('card_types', sa.JSON(), nullable=True),
    sa.Column('weekdays', sa.JSON(), nullable=True),
    sa.Column('stacking', sa.String(length=16), nullable=False),
    sa.Column('exclusive_group', sa.String(length=32), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('cap_per_bill', sa.BigInteger(), nullable=True),
    sa.Column('cap_per_member', sa.BigInteger(), nullable=True),
    sa.Column('cap_period', sa.String(length=16), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotions')),
    sa.UniqueConstraint('code', name=op.f('uq_promotions_code'))
    )
    op.create_table('tier_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_key', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_member_id', sa.BigInteger(), nullable=False),
    sa.Column('members_changed', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_evaluations')),
    sa.UniqueConstraint('run_key', name=op.f('uq_tier_evaluations_run_key'))
    )
    op.create_table('earning_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('formula', sa.String(length=64), nullable=False),
    sa.Column('formula_params', sa.JSON(), nullable=False),
    sa.Column('bands', sa.JSON(), nullable=False),
    sa.Column('band_basis', sa.String(length=16), nullable=False),
    sa.Column('band_period', sa.String(length=16), nullable=True),
    sa.Column('rounding', sa.String(length=16), nullable=False),
    sa.Column('max_points_per_bill', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_earning_rules_outlet_id_outlets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earning_rules')),
    sa.UniqueConstraint('outlet_id', 'version', name='uq_earning_rules_outlet_version')
    )
    with op.batch_alter_table('earning_rules', schema=None) as batch_op:
        batch_op.create_index('ix_earning_rules_outlet_effective', ['outlet_id', 'effective_from'], unique=False)

    op.create_table('member_activity',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('spend_cents', sa.BigInteger(), nullable=False),
    sa.Column('nights', sa.Integer(), nullable=False),
    sa.Column('stays', sa.Integer(), nullable=False),
    sa.Column('bills', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_activity_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', 'month', name=op.f('pk_member_activity'))
    )
    op.create_table('tier_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('old_tier_id', sa.Integer(), nullable=True),
    sa.Column('new_tier_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['evaluation_id'], ['tier_evaluations.id'], name=op.f('fk_tier_changes_evaluation_id_tier_evaluations')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_tier_changes_member_id_members')),
    sa.ForeignKeyConstraint(['new_tier_id'], ['tiers.id'], name=op.f('fk_tier_changes_new_tier_id_tiers')),
    sa.ForeignKeyConstraint(['old_tier_id'], ['tiers.id'], name=op.f('fk_tier_changes_old_tier_id_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_changes'))
    )
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tier_changes_member_id'), ['member_id'], unique=False)

    op.create_table('expiry_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_expiry_warnings_account_id_accounts')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_expiry_warnings_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expiry_warnings')),
    sa.UniqueConstraint('account_id', 'expires_on', name='uq_expiry_warnings_account_day')
    )
    with op.batch_alter_table('expiry_warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expiry_warnings_member_id'), ['member_id'], unique=False)

    op.create_table('promotion_awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promotion_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_promotion_awards_bill_id_bills')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_promotion_awards_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_promotion_awards_member_id_members')),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotions.id'], name=op.f('fk_promotion_awards_promotion_id_promotions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_awards'))
    )
    with op.batch_alter_table('promotion_awards', schema=None) as batch_op:
        batch_op.create_index('ix_promotion_awards_cap', ['promotion_id', 'member_id', 'occurred_at'], unique=False)

    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rule_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('qualifying_nights', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('qualifying_stays', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_foreign_key(batch_op.f('fk_bills_rule_id_earning_rules'), 'earning_rules', ['rule_id'], ['id'])

    with op.batch_alter_table('card_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_multiplier', sa.Numeric(precision=6, scale=3), nullable=False, server_default='1'))

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referred_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tier_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('tier_floor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tier_floor_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_members_referred_by_id'), ['referred_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_members_tier_floor_id_tiers'), 'tiers', ['tier_floor_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_members_referred_by_id_members'), 'members', ['referred_by_id'], ['id'])
        batch_op.drop_constraint(op.f('ck_members_status'), type_='check')
        batch_op.create_check_constraint(
            'status', "status IN ('pending', 'active', 'dormant', 'suspended', 'closed')")

    epoch = sa.bindparam("epoch", datetime(1970, 1, 1, tzinfo=timezone.utc), type_=sa.DateTime(timezone=True))
    op.execute(sa.text(
        "INSERT INTO earning_rules (outlet_id, version, effective_from, formula, formula_params, bands, band_basis,"
        " rounding, note, created_at)"
        " SELECT id, 1, :epoch, formula, formula_params, '[]', 'bill', 'floor',"
        " 'moved from the outlet by migration 0002', CURRENT_TIMESTAMP FROM outlets"
    ).bindparams(epoch))
    with op.batch_alter_table('outlets', schema=None) as batch_op:
        batch_op.drop_column('formula')
        batch_op.drop_column('formula_params')

    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_rate', sa.Numeric(precision=5, scale=4), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('entitlements', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('qualification', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('purchase_points', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.drop_column('purchase_points')
        batch_op.drop_column('qualification')
        batch_op.drop_column('entitlements')
        batch_op.drop_column('discount_rate')

    with op.batch_alter_table('outlets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('formula_params', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('formula', sa.VARCHAR(length=64), nullable=False, server_default='base_rate'))
    op.execute(
        "UPDATE outlets SET formula = (SELECT r.formula FROM earning_rules r WHERE r.outlet_id = outlets.id"
        " ORDER BY r.version DESC LIMIT 1), formula_params = (SELECT r.formula_params FROM earning_rules r"
        " WHERE r.outlet_id = outlets.id ORDER BY r.version DESC LIMIT 1)"
        " WHERE EXISTS (SELECT 1 FROM earning_rules r WHERE r.outlet_id = outlets.id)"
    )

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_members_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('pending', 'active', 'suspended', 'closed')")
        batch_op.drop_constraint(batch_op.f('fk_members_referred_by_id_members'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_members_tier_floor_id_tiers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_members_referred_by_id'))
        batch_op.drop_column('last_activity_at')
        batch_op.drop_column('tier_floor_expires_at')
        batch_op.drop_column('tier_floor_id')
        batch_op.drop_column('tier_since')
        batch_op.drop_column('referred_by_id')

    with op.batch_alter_table('card_types', schema=None) as batch_op:
        batch_op.drop_column('points_multiplier')

    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_bills_rule_id_earning_rules'), type_='foreignkey')
        batch_op.drop_column('qualifying_stays')
        batch_op.drop_column('qualifying_nights')
        batch_op.drop_column('rule_id')

    with op.batch_alter_table('promotion_awards', schema=None) as batch_op:
        batch_op.drop_index('ix_promotion_awards_cap')

    op.drop_table('promotion_awards')
    with op.batch_alter_table('expiry_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expiry_warnings_member_id'))

    op.drop_table('expiry_warnings')
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tier_changes_member_id'))

    op.drop_table('tier_changes')
    op.drop_table('member_activity')
    with op.batch_alter_table('earning_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_earning_rules_outlet_effective')

    op.drop_table('earning_rules')
    op.drop_table('tier_evaluations')
    op.drop_table('promotions')
    op.drop_table('expiry_runs')
