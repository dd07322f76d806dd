"""What the earning pipeline asks about a member's history (IMemberFacts), read from the database
only when a rule or a promotion needs it."""
from sqlalchemy import func, select

from lps_core.earning.models import Bill
from lps_core.earning.promotions import awarded_in_period
from lps_core.outlets.models import Outlet


class MemberFacts:
    def __init__(self, db, programme, member_id):
        self.db, self.programme, self.member_id = db, programme, member_id

    def period_spend_cents(self, period, moment):
        return int(self.db.scalar(
            select(func.coalesce(func.sum(Bill.amount_cents), 0))
            .where(Bill.member_id == self.member_id, Bill.occurred_at >= self.programme.period_start(period, moment),
                   Bill.occurred_at <= moment)
        ))

    def is_first_bill(self, promotion):
        query = select(Bill.id).where(Bill.member_id == self.member_id)
        if promotion.outlets:
            query = query.join(Outlet, Outlet.id == Bill.outlet_id).where(Outlet.code.in_(promotion.outlets))
        return self.db.scalar(query.limit(1)) is None

    def bill_count(self, promotion):
        query = select(func.count(Bill.id)).where(Bill.member_id == self.member_id)
        if promotion.outlets:
            query = query.join(Outlet, Outlet.id == Bill.outlet_id).where(Outlet.code.in_(promotion.outlets))
        return int(self.db.scalar(query))

    def awarded(self, promotion, moment):
        return awarded_in_period(self.db, promotion, self.member_id,
                                 self.programme.period_start(promotion.cap_period, moment))
