"""The partner screens with WebTest: creating a partner, its contract and an adjustment, suspending
it, a month's statement with its exports and printable page, closing a period after confirmation,
and the permission they need."""
from datetime import date, timedelta

from sqlalchemy import select

from lps_core.partners.models import PartnerStatement
from lps_core.testing import audited, csrf_of, sign_in_as


def test_head_office_runs_a_partner_from_the_screens(testapp, seed):
    csrf = sign_in_as(testapp, seed, "hq", "correct horse battery", ["administrator"], [])
    assert "Partners" in testapp.get("/").text
    page = testapp.get("/partners")
    refused = testapp.post("/partners", {"csrf_token": csrf, "code": "bad code", "name": ""}, status=400)
    assert 'aria-invalid="true"' in refused.text
    testapp.post("/partners", {"csrf_token": csrf_of(page), "code": "BAKERY", "name": "Golden Crust",
                               "kind": "partner", "joined_on": "2020-01-01", "outlet_code": "BAK1",
                               "outlet_name": "Main Street"}, status=303)
    partner = testapp.get("/partners/BAKERY")
    assert "BAK1 · Main Street" in partner.text and 'id="suspend"' in partner.text
    csrf = csrf_of(partner)
    testapp.post("/partners/BAKERY/contracts", {"csrf_token": csrf, "effective_from": "2020-01-01",
                                                "issue_cost_per_point": "0.01", "redeem_value_per_point": "0.008",
                                                "cobrand_share": "0.5"}, status=303)
    again = testapp.post("/partners/BAKERY/contracts", {"csrf_token": csrf, "effective_from": "2021-01-01",
                                                        "issue_cost_per_point": "0.02",
                                                        "redeem_value_per_point": "0.01"}, status=409)
    assert "must be" in again.text and "effective_from" in again.text
    testapp.post("/partners/BAKERY/adjustments", {"csrf_token": csrf, "direction": "to_partner", "amount": "3.00",
                                                  "reason": "opening voucher"}, status=303)
    testapp.post("/partners/BAKERY/standing", {"csrf_token": csrf, "change": "suspend", "reason": "late payment"},
                 status=303)
    assert "suspended" in testapp.get("/partners/BAKERY").text
    assert [entry.action for entry in audited(seed.db, "partner.suspend")] == ["partner.suspend"]

    month = date.today().strftime("%Y-%m")
    statement = testapp.get(f"/partners/BAKERY/statement?period={month}")
    assert "opening voucher" in statement.text and 'id="csv"' in statement.text
    assert testapp.get(f"/partners/BAKERY/statement?period={month}&format=csv").content_type == "text/csv"
    assert testapp.get(f"/partners/BAKERY/statement?period={month}&format=xlsx").body[:2] == b"PK"
    assert "print.js" in testapp.get(f"/partners/BAKERY/statement?period={month}&print=1").text
    assert testapp.get("/partners/BAKERY/statement?period=2026-13", status=400).text.count("error") >= 1

    last_month = (date.today().replace(day=1) - timedelta(days=1))
    old = testapp.get(f"/partners/BAKERY/statement?from=2020-01-01&to={last_month.isoformat()}")
    assert 'id="close-form"' in old.text and "data-confirm" in old.text
    testapp.post("/partners/BAKERY/statement/close", {"csrf_token": csrf_of(old), "from": "2020-01-01",
                                                      "to": last_month.isoformat()}, status=303)
    seed.db.rollback()
    assert seed.db.scalar(select(PartnerStatement.period_end)) == last_month + timedelta(days=1)
    assert 'id="close-form"' not in testapp.get(f"/partners/BAKERY/statement?from=2020-01-01&to={last_month}").text


def test_the_partner_screens_need_their_permission(testapp, seed):
    sign_in_as(testapp, seed, "cashier", "correct horse battery", ["cashier"], ["REST"])
    testapp.get("/partners", status=403)


def test_the_cashier_of_a_suspended_partner_is_told_its_outlet_posts_nothing(testapp, seed):
    from sqlalchemy import func

    from lps_core.audit.services import SYSTEM
    from lps_core.cashier.models import Settlement
    from lps_core.partners import services
    from lps_core.partners.services import NewOutlet, NewPartner

    services.create_partner(seed.db, seed.plugins, None, NewPartner(
        "CAFE", "Corner Cafe", "franchise", None, None, (NewOutlet("CAFE1", "Counter", "base_rate", {}),)),
        actor=SYSTEM)
    services.change_standing(seed.db, "CAFE", "suspend", actor=SYSTEM)
    seed.db.commit()
    card_no = seed.member_card()
    csrf = sign_in_as(testapp, seed, "boss", "correct horse battery", ["administrator"], [])
    refused = testapp.post("/cashier/settle", {"csrf_token": csrf, "outlet": "CAFE1", "card_no": card_no,
                                               "bill_no": "C-1", "item-0-amount": "10.00", "tender-0-kind": "cash",
                                               "tender-0-amount": "10.00"}, status=400)
    assert "CAFE1: partner CAFE is suspended" in refused.text
    seed.db.rollback()
    assert seed.db.scalar(select(func.count()).select_from(Settlement)) == 0


def test_the_period_form_opens_the_dates_typed_over_the_month_filled_in(testapp, seed):
    from lps_core.audit.services import SYSTEM
    from lps_core.partners import services
    from lps_core.partners.services import NewPartner

    services.create_partner(seed.db, seed.plugins, None, NewPartner("SHOP", "Shop", "partner", None, None, ()),
                            actor=SYSTEM)
    seed.db.commit()
    sign_in_as(testapp, seed, "boss", "correct horse battery", ["administrator"], [])
    form = testapp.get("/partners/SHOP").forms["period-form"]
    form["from"], form["to"] = "2026-01-05", "2026-01-20"
    page = form.submit()
    assert "Jan 5, 2026 – Jan 20, 2026" in page.text
