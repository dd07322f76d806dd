"""Member analytics (lps_core.analytics): each member's region, derived from the phone number.

- member_regions: the province and city of each member's mobile number (phonenumbers' geocoding
  data for its prefix), kept current by the session whenever a phone number is written, so the
  region breakdown is a GROUP BY instead of decrypting every phone number per request.

The upgrade fills it in for the members that exist: their phone numbers are decrypted with the
keys of the settings that run it (lps.pii.keys, as 0011 does), in batches. Without keys it stops
before changing anything if there is a phone number to read.

Revision ID: 0036
Revises: 0035
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

from lps_core.errors import ConfigurationError

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    op.create_table('member_regions',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('province', sa.String(length=32), nullable=False),
    sa.Column('city', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_regions_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_regions'))
    )
    op.create_index('ix_member_regions_province_city', 'member_regions', ['province', 'city'], unique=False)
    _backfill(op.get_bind())


def _backfill(bind):
    from lps_core.analytics.regions import region_rows

    if bind.execute(sa.text("SELECT 1 FROM members WHERE phone IS NOT NULL LIMIT 1")).first() is None:
        return
    keys = getattr(bind.dialect, "lps_pii", None)
    if keys is None:
        raise ConfigurationError("members' regions are read from their phone numbers by this upgrade: run it with "
                                 "lps.pii.keys set (`lps db upgrade` with the app's ini file)")
    regions = sa.table('member_regions', sa.column('member_id'), sa.column('province'), sa.column('city'))
    last = 0
    while True:
        rows = bind.execute(sa.text("SELECT id, phone FROM members WHERE phone IS NOT NULL AND id > :last "
                                    "ORDER BY id LIMIT :batch"), {"last": last, "batch": BATCH}).all()
        if not rows:
            return
        found = region_rows((row.id, keys.decrypt(row.phone)) for row in rows)
        if found:
            bind.execute(regions.insert(), found)
        last = rows[-1].id


def downgrade():
    op.drop_index('ix_member_regions_province_city', table_name='member_regions')
    op.drop_table('member_regions')
