"""Coupons as a promotion's prize, and each coupon type's refund rule:

- promotions.prize_coupon_type_id, prize_count: the coupons of that type (count of them) a member
  wins with the promotion on a bill; both empty for a promotion that gives points only;
- coupon_types.on_refund: what a refund of the bill a coupon paid does to its use: 'return' (the
  use comes back; what every type did before), 'return_unexpired' (only while the coupon is still
  valid) or 'forfeit' (the use stays taken).

Revision ID: 0040
Revises: 0039
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('coupon_types') as batch:
        batch.add_column(sa.Column('on_refund', sa.String(length=16), server_default='return', nullable=False))
        batch.create_check_constraint('on_refund', "on_refund IN ('return', 'return_unexpired', 'forfeit')")
    with op.batch_alter_table('promotions') as batch:
        batch.add_column(sa.Column('prize_coupon_type_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('prize_count', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_promotions_prize_coupon_type_id_coupon_types'), 'coupon_types',
                                 ['prize_coupon_type_id'], ['id'])
        batch.create_check_constraint('prize', '(prize_coupon_type_id IS NULL) = (prize_count IS NULL)')
        batch.create_check_constraint('prize_count', 'prize_count BETWEEN 1 AND 100')


def downgrade():
    with op.batch_alter_table('promotions') as batch:
        batch.drop_constraint(op.f('ck_promotions_prize_count'), type_='check')
        batch.drop_constraint(op.f('ck_promotions_prize'), type_='check')
        batch.drop_constraint(op.f('fk_promotions_prize_coupon_type_id_coupon_types'), type_='foreignkey')
        batch.drop_column('prize_count')
        batch.drop_column('prize_coupon_type_id')
    with op.batch_alter_table('coupon_types') as batch:
        batch.drop_constraint(op.f('ck_coupon_types_on_refund'), type_='check')
        batch.drop_column('on_refund')
