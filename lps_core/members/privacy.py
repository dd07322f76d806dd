"""Re-encrypting members' personal data after a key change (`lps pii rotate`).

Reading a row decrypts it with whichever configured key encrypted it; writing it back encrypts it
with the newest key and recomputes its blind indexes with the current index key. So one pass does
both rotations: a new Fernet key put in front of lps.pii.keys, or a new lps.pii.index_key. Phone
numbers are written back in E.164, read in lps.phone.default_region (one that is no valid number
is kept as it is)."""
from sqlalchemy import or_, select, update

from lps_core.members.models import Member
from lps_core.pii import phone_e164, phone_region_of

PERSONAL = (Member.phone, Member.id_number, Member.address)


def reencrypt_personal_data(db, *, after_id=0, batch=1000) -> tuple[int, int]:
    """Re-encrypt one batch of members with personal data, in id order after `after_id`; returns
    (members rewritten, last id) so a caller can commit per batch and resume."""
    rows = db.execute(
        select(Member.id, *PERSONAL).where(Member.id > after_id, or_(*(column.is_not(None) for column in PERSONAL)))
        .order_by(Member.id).limit(batch)
    ).all()
    region = phone_region_of(db)
    for row in rows:
        phone = row.phone and (phone_e164(row.phone, region) or row.phone)
        db.execute(update(Member).where(Member.id == row.id).values(
            phone=phone, phone_index=phone, id_number=row.id_number, id_number_index=row.id_number,
            address=row.address))
    return len(rows), rows[-1].id if rows else after_id
