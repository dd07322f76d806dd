"""LPS's own listener of co-branded cards (plugin `lps_cobrand`): the extra points a co-branded
card's multiplier gives a bill are a cost its partner funds, written as a partner_benefit_costs row
in the bill's own transaction, and a refund of the bill writes its negative share
(lps_core.cards.cobrand). A bill on any other card writes nothing and sends no statement. The
discount of a co-branded card is recorded by the settlement itself, which has no event of its own.
Blocking the plugin (lps.plugins.disabled = lps_cobrand) stops the points costs."""
from lps_core.cards.cobrand import record_bill_points, record_bill_refund
from lps_core.contract import BillPosted, BillRefunded, hookimpl
from lps_core.timeutil import utcnow


@hookimpl(specname="lps_on_bill_posted")
def charge_partner_for_card_points(dbsession, posted: BillPosted):
    record_bill_points(dbsession, posted)


@hookimpl(specname="lps_on_bill_refunded")
def credit_partner_for_refunded_points(dbsession, refunded: BillRefunded):
    record_bill_refund(dbsession, refunded, utcnow())
