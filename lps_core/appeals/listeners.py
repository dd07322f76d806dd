"""The appeals' listener of a refunded bill (plugin `lps_appeals`): a bill whose missing points an
appeal credited as a correction gives those back too when it is refunded, pro rata like the bill's
own points (on running totals, so partial refunds add up to exactly the correction), and all of it
with the last cent. A member who has spent them keeps what they spent, as with referral bonuses:
a refund is never refused for the correction."""
from sqlalchemy import func, select

from lps_core.appeals.services import CORRECTION
from lps_core.contract import BillRefunded, hookimpl
from lps_core.earning.models import Bill, BillRefund
from lps_core.ledger import services as ledger
from lps_core.ledger.models import LedgerEntry
from lps_core.members.activity import record_activity


@hookimpl(specname="lps_on_bill_refunded")
def take_back_appeal_corrections(dbsession, refunded: BillRefunded):
    db = dbsession
    corrections = db.execute(
        select(LedgerEntry.id, LedgerEntry.amount, LedgerEntry.account_id)
        .where(LedgerEntry.bill_id == refunded.bill_id, LedgerEntry.kind == CORRECTION,
               LedgerEntry.business_key.like("appeal:%:correction"), LedgerEntry.amount > 0)
        .order_by(LedgerEntry.id)
    ).all()
    if not corrections:
        return
    bill = db.get(Bill, refunded.bill_id)
    refunded_cents = int(db.scalar(select(func.coalesce(func.sum(BillRefund.amount_cents), 0))
                                   .where(BillRefund.bill_id == bill.id)))  # this refund included
    taken_back = 0
    for entry in corrections:
        due = entry.amount if refunded.whole else entry.amount * refunded_cents // bill.amount_cents
        already = entry.amount - ledger.reversible_amount(db, db.get(LedgerEntry, entry.id))
        points = min(due - already, ledger.lock_account(db, entry.account_id).balance)
        if points <= 0:
            continue
        key = f"reversal:{bill.outlet_id}:{bill.bill_no}:{refunded.refund_no}:appeal:{entry.id}"
        ledger.reverse(db, entry.id, points, business_key=key, fingerprint=key,
                       note=f"refund {refunded.refund_no} of bill {bill.bill_no}: appeal correction taken back")
        taken_back += points
    if taken_back and refunded.member_id is not None:
        record_activity(db, refunded.member_id, refunded.bill_occurred_at, points=-taken_back)
