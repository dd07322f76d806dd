"""The demo programme's partner: a bakery of the alliance with its counter, under a contract since
the first of last month, so that `lps demo` shows the partner screens and a statement, and the
bakery's co-branded card (its discount and points multiplier funded by the bakery at the contract's
share, lps_core.cards.cobrand)."""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from lps_core.audit.services import SYSTEM
from lps_core.cards.models import CardType
from lps_core.outlets.models import Property
from lps_core.partners.services import NewOutlet, NewPartner, Terms, add_contract, create_partner
from lps_core.timeutil import utcnow


def load_demo_partner(db, plugins, tz):
    """Create the demo bakery once (idempotent, as the rest of the demo)."""
    if db.scalar(select(Property.id).where(Property.code == "BAKERY")) is not None:
        return
    today = utcnow().astimezone(tz).date()
    since = (date(today.year, today.month, 1) - timedelta(days=1)).replace(day=1)
    create_partner(db, plugins, tz, NewPartner("BAKERY", "Golden Crust Bakery", "partner", since, None,
                                               (NewOutlet("BAKERY1", "Golden Crust counter", "base_rate", {}),)),
                   actor=SYSTEM)
    add_contract(db, "BAKERY", Terms(since, issue_cost_per_point=Decimal("0.01"),
                                     redeem_value_per_point=Decimal("0.008"),
                                     cobrand_share=Decimal("0.5"), note="demo contract"),
                 today, actor=SYSTEM)
    partner_id = db.scalar(select(Property.id).where(Property.code == "BAKERY"))
    db.execute(insert(CardType).values(code="crust", name="Golden Crust co-branded card", prefix="8804",
                                       discount_rate=Decimal("0.05"), points_multiplier=Decimal("1.5"),
                                       partner_property_id=partner_id))
