"""The portal's dashboard shows the member's usable coupons."""
import re

from lps_core.coupons.services import TypeSpec, issue_coupons, save_type
from lps_core.timeutil import utcnow
from tests.test_portal import member, portal, sign_in  # noqa: F401 (the portal fixture)


def test_the_dashboard_lists_the_members_coupons(portal, seed):  # noqa: F811
    member_id, card_no = member(seed)
    save_type(seed.db, TypeSpec("TEN", "Ten off dinner", "amount", value_cents=1000, valid_days=3))
    [coupon] = issue_coupons(seed.db, "TEN", [member_id], source="staff", source_ref="", now=utcnow())
    seed.db.commit()
    sign_in(portal, card_no)
    text = re.sub(r"<[^>]+>", "", portal.get("/portal").text)
    assert "Coupons" in text and "Ten off dinner · 10.00 · " + coupon.code in text
    assert "valid until" in text
