"""Members' phone numbers in E.164 (lps_core/pii.py): "13800000042", "138-0000-0042" and
"+86 138 0000 0042" are one number, +8613800000042, stored encrypted and found by one blind index.

Every stored phone number is decrypted with the keys of the settings that run the upgrade
(lps.pii.keys, lps.pii.index_key, as 0008 does), read in the default region lps.phone.default_region
(CN unless set), written back in E.164 and its blind index recomputed. A stored number that is not
a valid phone number in that region is kept as it was, its index recomputed all the same; it is
counted in the upgrade's log line so that staff can correct it on the member's page. Without keys
the upgrade stops before changing anything if there is a phone number to rewrite.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""
import logging

from alembic import op
import sqlalchemy as sa

from lps_core.errors import ConfigurationError

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, phone FROM members WHERE phone IS NOT NULL ORDER BY id")).all()
    if not rows:
        return
    keys = getattr(bind.dialect, "lps_pii", None)
    if keys is None:
        raise ConfigurationError("members' phone numbers must be rewritten in E.164 by this upgrade: run it with "
                                 "lps.pii.keys and lps.pii.index_key set (`lps db upgrade` with the app's ini file)")
    update = sa.text("UPDATE members SET phone = :phone, phone_index = :phone_index WHERE id = :id")
    invalid = 0
    for row in rows:
        phone = keys.decrypt(row.phone)
        e164 = keys.phone_e164(phone)
        if e164 is None:
            invalid += 1
        value = e164 or phone
        bind.execute(update, {"id": row.id, "phone": keys.encrypt(value) if value != phone else row.phone,
                              "phone_index": keys.index("phone", value)})
    if invalid:
        log.warning("%d of %d stored phone numbers are not valid numbers in region %s: kept as they were",
                    invalid, len(rows), keys.phone_region)


def downgrade():
    # E.164 numbers are what the earlier code stored too: nothing to undo.
    pass
