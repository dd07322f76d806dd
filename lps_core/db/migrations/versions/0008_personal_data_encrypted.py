"""Personal data encrypted at rest: members' phone, ID number and address (lps_core/pii.py).

Phone numbers already stored in plain text are encrypted, and their blind index filled in, with
the keys of the settings that run the upgrade (lps.pii.keys, lps.pii.index_key). Without keys
the upgrade stops before changing anything if there is a phone number to encrypt.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

from lps_core.errors import ConfigurationError

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    plain = bind.execute(sa.text("SELECT id, phone FROM members WHERE phone IS NOT NULL")).all()
    keys = getattr(bind.dialect, "lps_pii", None)
    if plain and keys is None:
        raise ConfigurationError("members' phone numbers must be encrypted by this upgrade: run it with "
                                 "lps.pii.keys and lps.pii.index_key set (`lps db upgrade` with the app's ini file)")
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_phone'))
        batch_op.alter_column('phone', existing_type=sa.String(length=32), type_=sa.Text(), existing_nullable=True)
        batch_op.add_column(sa.Column('phone_index', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('id_number', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('id_number_index', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_members_phone_index'), ['phone_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_members_id_number_index'), ['id_number_index'], unique=False)
    update = sa.text("UPDATE members SET phone = :phone, phone_index = :phone_index WHERE id = :id")
    for row in plain:
        bind.execute(update, {"id": row.id, "phone": keys.encrypt(row.phone),
                              "phone_index": keys.index("phone", row.phone)})


def downgrade():
    bind = op.get_bind()
    keys = getattr(bind.dialect, "lps_pii", None)
    rows = bind.execute(sa.text("SELECT id, phone FROM members WHERE phone IS NOT NULL")).all()
    if rows and keys is None:
        raise ConfigurationError("decrypting members' phone numbers needs lps.pii.keys")
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_id_number_index'))
        batch_op.drop_index(batch_op.f('ix_members_phone_index'))
        batch_op.drop_column('address')
        batch_op.drop_column('id_number_index')
        batch_op.drop_column('id_number')
        batch_op.drop_column('phone_index')
    for row in rows:
        bind.execute(sa.text("UPDATE members SET phone = :phone WHERE id = :id"),
                     {"id": row.id, "phone": keys.decrypt(row.phone)})
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sa.Text(), type_=sa.String(length=32), existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_members_phone'), ['phone'], unique=False)
