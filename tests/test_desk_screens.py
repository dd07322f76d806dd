"""The desk screens: the cashier's screen (look-up, settle with mixed tenders, PIN, receipt,
refund, deposits, top-ups, repayments) and rewards at the desk (redeem, collect, cancel, catalogue
management). Happy paths, errors beside the field, CSRF, outlet scope and the audit log; both databases."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update

from lps_core.cards.luhn import with_check_digit
from lps_core.cards.models import Card, CardType
from lps_core.cards.pins import hash_pin
from lps_core.cashier.models import Settlement
from lps_core.earning.services import OutletContext
from lps_core.ledger import services as ledger
from lps_core.members.models import Member, Tier
from lps_core.members.services import Enrolment, approve_member, enrol_member
from lps_core.outlets.models import Outlet
from lps_core.rewards import services as rewards
from lps_core.rewards.models import Redemption, Reward
from lps_core.timeutil import utcnow
from lps_core.testing import audited as audited_entries
from lps_core.testing import sign_in_as

PASSWORD = "desk-pass-123"


def sign_in(testapp, seed, username, roles=("cashier",), outlets=("REST",)):
    return sign_in_as(testapp, seed, username, PASSWORD, roles, outlets)


def audited(seed, action):
    return audited_entries(seed.db, action)


@pytest.fixture
def products(seed):
    """A prepaid card type: stored value with a deposit bonus, 10% off, a credit line; and a count card."""
    seed.db.execute(insert(CardType), [
        {"code": "prepaid", "name": "Prepaid", "prefix": "8801", "discount_rate": Decimal("0.1"), "stored_value": True,
         "deposit_bonuses": [{"min_deposit": "500.00", "bonus": "40.00"}], "credit_limit_cents": 100000},
        {"code": "spa10", "name": "Spa 10", "prefix": "8802", "initial_uses": 0},
    ])
    seed.db.commit()


def card_of(seed, name, card_type="prepaid", tier=None, pin=None, phone="+8613911112222"):
    # Members of a test may share the default phone number: enrolled knowingly (force_duplicate_phone).
    member_id = enrol_member(seed.db, Enrolment(name=name, channel="desk", phone=phone), force_duplicate_phone=True)
    card_no = approve_member(seed.db, member_id, card_type_code=card_type)
    if tier:
        seed.db.execute(update(Member).where(Member.id == member_id)
                        .values(tier_id=select(Tier.id).where(Tier.code == tier).scalar_subquery()))
    if pin:
        seed.db.execute(update(Card).where(Card.card_no == card_no).values(pin_hash=hash_pin(pin)))
    seed.db.commit()
    return card_no


@pytest.fixture
def cashier(testapp, seed, products):
    return sign_in(testapp, seed, "carla")


def bill_form(page):
    return page.forms["bill"]


def fill_bill(form, items, tenders, pin=None):
    """The bill's item lines and tenders. SKU and category are pickers of the known ones: a value
    the page does not offer is sent as a browser would send a picked one."""
    for n, (sku, category, qty, amount) in enumerate(items):
        form[f"item-{n}-sku"].force_value(sku)
        form[f"item-{n}-category"].force_value(category)
        form[f"item-{n}-qty"], form[f"item-{n}-amount"] = qty, amount
    for n, (kind, amount) in enumerate(tenders):
        form[f"tender-{n}-kind"], form[f"tender-{n}-amount"] = kind, amount
    if pin is not None:
        form["pin"] = pin
    if items:
        form["amount"] = ""  # cashier.js writes the items' sum there; without it, the items alone
    return form


def deposit_on(testapp, card_no, amount="600.00"):
    page = testapp.get("/cashier", {"card_no": card_no})
    form = page.forms["deposit"]
    form["amount"] = amount
    return form.submit(status=303).follow()


# --- Cashier ---------------------------------------------------------------------------------------

def test_a_swipe_shows_the_member_and_a_mixed_bill_settles_with_points_and_receipt(testapp, seed, cashier):
    card_no = card_of(seed, "Wang Fang", tier="gold")
    page = deposit_on(testapp, card_no)
    assert "Saved: the balances below are up to date." in page.text
    assert page.html.select_one("#card_no")["value"] == card_no
    assert "Wang Fang" in page.text and "Gold" in page.text
    assert "600.00" in page.html.select_one("#balance-stored-value").text
    assert "40.00" in page.html.select_one("#balance-bonus-value").text

    form = fill_bill(bill_form(page), [("STEAK", "food", "1", "100.00"), ("WINE", "drinks", "2", "50.00")],
                     [("stored_value", "100.00"), ("cash", "35.00")])
    bill_no = form["bill_no"].value
    assert bill_no.startswith("REST-")
    done = form.submit(status=303).follow()
    assert "The bill is settled." in done.text
    assert "15.00" in done.html.select_one("#discount").text and "135.00" in done.html.select_one("#charged").text
    assert done.html.select_one("#points-earned").text.strip() != "0"
    settlement = seed.db.scalar(select(Settlement).where(Settlement.bill_no == bill_no))
    assert settlement.operator == "carla" and settlement.charged_cents == 13500
    entry = audited(seed, "settlement.create")[-1]
    assert entry.actor_name == "carla" and entry.target_id == str(settlement.id) and entry.after["charged"] == "135.00"
    assert audited(seed, "card.deposit")[-1].after["stored_value"] == "600.00"

    receipt_url = done.html.select_one("#print-receipt")["href"]
    first = testapp.get(receipt_url)
    assert bill_no in first.text and "COPY" not in first.text
    assert "COPY" in testapp.get(receipt_url).text


def test_look_up_by_name_lists_the_cards_and_unknown_cards_are_answered_beside_the_field(testapp, seed, cashier):
    card_of(seed, "Li Lei")
    card_of(seed, "Li Na", phone="+8613900001111")
    page = testapp.get("/cashier", {"name": "li "})
    assert len(page.html.select("table tbody tr")) == 2
    assert "Li Na" in testapp.get("/cashier", {"phone": "+8613900001111"}).html.select_one("#card h2").text
    missing = testapp.get("/cashier", {"card_no": with_check_digit("880199999999999")})
    assert "No card found." in missing.text
    assert missing.html.select_one("#card_no")["aria-invalid"] == "true"
    assert "check digit" in testapp.get("/cashier", {"card_no": "8801000000000000"}, status=400).text
    bad = testapp.get("/cashier", {"name": "x"}, status=400)
    assert "must have at least 2 characters" in bad.text


def test_settlement_errors_are_shown_beside_the_tender_and_pin_with_the_form_kept(testapp, seed, cashier):
    card_no = card_of(seed, "Zhao Min", pin="4321")
    page = deposit_on(testapp, card_no, "50.00")
    form = fill_bill(bill_form(page), [("STEAK", "food", "1", "100.00")], [("stored_value", "90.00")], pin="4321")
    short = form.submit(status=400)
    assert "of stored value on the card" in short.html.select_one("#tenders").text
    assert short.html.select_one("#tender-0-amount")["aria-invalid"] == "true"
    assert bill_form(short)["item-0-sku"].value == "STEAK"
    assert bill_form(short)["bill_no"].value == form["bill_no"].value

    form = fill_bill(bill_form(short), [("STEAK", "food", "1", "100.00")], [("stored_value", "40.00"), ("cash", "50.00")],
                     pin="9999")
    wrong = form.submit(status=400)
    assert "wrong PIN" in wrong.text and wrong.html.select_one("#pin")["aria-invalid"] == "true"
    assert seed.db.scalar(select(Settlement.id)) is None

    totals = fill_bill(bill_form(wrong), [("STEAK", "food", "1", "100.00")], [("cash", "100.00")]).submit(status=400)
    assert "must add up to 90.00" in totals.text


def test_malformed_bill_lines_are_named_beside_their_row_by_the_settlement_schema(testapp, seed, cashier):
    card_no = card_of(seed, "Zheng Hao")
    page = testapp.get("/cashier", {"card_no": card_no})
    form = fill_bill(bill_form(page), [("STEAK", "food", "1", "100.00"), ("WINE", "drinks", "1e5", "10.")],
                     [("cash", "1e300000"), ("credit", "0")])
    bad = form.submit(status=400)
    assert "amount must not use an exponent" in bad.html.select_one("#tenders").text
    assert bad.html.select_one("#tender-0-amount")["aria-invalid"] == "true"
    assert bad.html.select_one("#tender-1-amount")["aria-invalid"] == "true"
    assert "line 2: qty must be a whole number" in bad.text
    assert bill_form(bad)["item-1-qty"].value == "1e5" and bill_form(bad)["tender-0-amount"].value == "1e300000"
    assert seed.db.scalar(select(Settlement.id)) is None
    form = fill_bill(bill_form(bad), [("STEAK", "food", "1", "100.00"), ("WINE", "drinks", "2", "10.00")],
                     [("cash", "50.00"), ("credit", "49.00")])
    assert form.submit(status=303).follow().status_int == 200
    seed.db.rollback()
    assert seed.db.scalar(select(Settlement.charged_cents)) == 9900


def test_a_cashier_of_one_outlet_cannot_act_for_another(testapp, seed, cashier):
    card_no = card_of(seed, "Sun Li")
    testapp.get("/cashier", {"outlet": "SPA", "card_no": card_no}, status=403)
    page = testapp.get("/cashier", {"card_no": card_no})
    form = bill_form(page)
    form["outlet"].force_value("SPA")
    fill_bill(form, [("TEA", "drinks", "1", "10.00")], [("cash", "9.00")])
    form.submit(status=403)
    assert seed.db.scalar(select(Settlement.id)) is None


def test_the_settle_form_is_refused_without_its_csrf_token(testapp, seed, cashier):
    card_no = card_of(seed, "Qian Yu")
    testapp.post("/cashier/settle", {"outlet": "REST", "card_no": card_no, "bill_no": "B1", "item-0-amount": "10.00",
                                     "tender-0-kind": "cash", "tender-0-amount": "9.00"}, status=400)
    assert seed.db.scalar(select(Settlement.id)) is None


def test_refund_part_then_the_rest_and_errors_beside_the_field(testapp, seed, products):
    card_no = card_of(seed, "Zhou Xun")
    sign_in(testapp, seed, "manny", roles=("outlet_manager",))
    page = testapp.get("/cashier", {"card_no": card_no})
    done = fill_bill(bill_form(page), [("STEAK", "food", "1", "100.00")], [("cash", "90.00")]).submit().follow()
    refund = done.forms["refund"]
    refund["scope"], refund["amount"], refund["refund_no"] = "amount", "100.00", "RF1"
    too_much = refund.submit(status=400)
    assert "at most 90.00 can be refunded" in too_much.text
    assert too_much.html.select_one("#refund_amount")["aria-invalid"] == "true"
    refund = too_much.forms["refund"]
    refund["amount"], refund["reason"] = "30.00", "cold soup"
    after = refund.submit(status=303).follow()
    assert "60.00" in after.html.select_one("#refundable").text
    entry = audited(seed, "settlement.refund")[-1]
    assert entry.before == {"refundable": "90.00"} and entry.after["refundable"] == "60.00"
    rest = after.forms["refund"]
    rest["scope"] = "all"
    final = rest.submit(status=303).follow()
    assert "0.00" in final.html.select_one("#refundable").text and "refund" not in final.forms


def test_a_cashier_sees_the_settlement_but_may_not_refund(testapp, seed, cashier):
    card_no = card_of(seed, "He Jing")
    page = testapp.get("/cashier", {"card_no": card_no})
    done = fill_bill(bill_form(page), [("TEA", "drinks", "1", "10.00")], [("cash", "9.00")]).submit().follow()
    assert "refund" not in done.forms
    settlement_id = seed.db.scalar(select(Settlement.id))
    testapp.post(f"/cashier/settlements/{settlement_id}/refund", {"csrf_token": cashier, "scope": "all"}, status=403)


def test_top_up_uses_and_repay_credit(testapp, seed, cashier):
    count_card = card_of(seed, "Ma Yun", card_type="spa10")
    page = testapp.get("/cashier", {"card_no": count_card})
    assert "deposit" not in page.forms
    form = page.forms["top_up"]
    form["uses"], form["amount"] = "x", "300.00"
    bad = form.submit(status=400)
    assert bad.html.select_one("#topup_uses")["aria-invalid"] == "true"
    form = bad.forms["top_up"]
    form["uses"] = "10"
    page = form.submit(status=303).follow()
    assert page.html.select_one("#balance-uses").text.strip() == "10"
    assert audited(seed, "card.top_up")[-1].after["uses"] == 10

    credit_card = card_of(seed, "Lu Xun")
    page = testapp.get("/cashier", {"card_no": credit_card})
    fill_bill(bill_form(page), [("ROOM", "room", "1", "200.00")], [("credit", "180.00")]).submit(status=303)
    page = testapp.get("/cashier", {"card_no": credit_card})
    form = page.forms["repay"]
    form["amount"] = "500.00"
    too_much = form.submit(status=400)
    assert "at most 180.00 is owed" in too_much.text
    form = too_much.forms["repay"]
    form["amount"] = "80.00"
    page = form.submit(status=303).follow()
    assert "900.00" in page.html.select_one("#balance-credit-left").text
    assert audited(seed, "card.repayment")[-1].before["credit_used"] == "180.00"


def test_an_operator_of_several_outlets_picks_one(testapp, seed, products):
    sign_in(testapp, seed, "hq", roles=("administrator",), outlets=("all",))
    page = testapp.get("/cashier")
    links = [a["href"] for a in page.html.select(".outlet-choice a")]
    assert any("outlet=REST" in link for link in links) and any("outlet=SPA" in link for link in links)
    assert page.html.select_one("#card_no") is None
    assert testapp.get("/cashier", {"outlet": "SPA"}).html.select_one("#card_no") is not None
    testapp.get("/cashier", {"outlet": "NOPE"}, status=404)


# --- Rewards at the desk ----------------------------------------------------------------------------

def give_points(seed, card_no, points):
    ledger.credit(seed.db, seed.points_account(card_no), points, kind=ledger.EARN, business_key=f"gift:{card_no}",
                  fingerprint="gift", expires_at=utcnow() + timedelta(days=365))
    seed.db.commit()


@pytest.fixture
def catalogue(seed):
    rewards.create_reward(seed.db, "MUG", {"name": "Hotel mug", "category": "item", "cost_cents": 500, "stock": 3})
    rewards.create_reward(seed.db, "NIGHT", {"name": "Free night", "category": "room_night", "cost_cents": 50000,
                                             "voucher_valid_days": 90})
    seed.db.commit()


def test_redeem_collect_later_and_cancel_at_the_desk(testapp, seed, cashier, catalogue):
    card_no = card_of(seed, "Gao Yuan", card_type="standard")
    give_points(seed, card_no, 2000)
    page = testapp.get("/rewards", {"card_no": card_no})
    assert "Gao Yuan" in page.text and "2,000" in page.html.select_one("#points-balance").text
    form = page.forms["redeem-MUG"]
    form["quantity"], form["collection"] = "2", "later"
    page = form.submit(status=303).follow()
    assert "The reward is redeemed." in page.text
    assert "1,000" in page.html.select_one("#points-balance").text
    made = audited(seed, "redemption.create")[-1]
    assert made.after["points"] == 1000 and made.after["status"] == "awaiting_pickup" and made.actor_name == "carla"
    number = made.target_id
    assert "Awaiting pick-up" in page.html.select_one(f"#redemption-{number}").text

    page = page.forms[f"collect-{number}"].submit(status=303).follow()
    assert "Collected" in page.html.select_one(f"#redemption-{number}").text
    assert audited(seed, "redemption.collect")[-1].before == {"status": "awaiting_pickup"}

    refused = page.forms[f"cancel-{number}"]
    refused["reason"] = "broken"
    refused = refused.submit(status=400)
    assert "required to cancel a collected redemption" in refused.html.select_one(f"#redemption-{number}").text
    form = refused.forms[f"cancel-{number}"]
    form["reason"], form["force"] = "broken", True
    page = form.submit(status=303).follow()
    assert "2,000" in page.html.select_one("#points-balance").text
    assert audited(seed, "redemption.cancel")[-1].after["reason"] == "broken"
    assert seed.db.scalar(select(Reward.stock).where(Reward.code == "MUG")) == 3


def test_too_few_points_is_shown_beside_the_reward_and_nothing_is_taken(testapp, seed, cashier, catalogue):
    card_no = card_of(seed, "Lin Tao", card_type="standard")
    give_points(seed, card_no, 100)
    form = testapp.get("/rewards", {"card_no": card_no}).forms["redeem-NIGHT"]
    page = form.submit(status=400)
    assert "NIGHT: " in page.html.select_one("ul.error").text
    assert seed.db.scalar(select(Redemption.id)) is None


def test_the_catalogue_is_searchable_sortable_and_paginated(testapp, seed, cashier, catalogue):
    page = testapp.get("/rewards", {"q": "night"})
    assert [row["id"] for row in page.html.select("#catalogue tbody tr")] == ["reward-NIGHT"]
    page = testapp.get("/rewards", {"sort": "points", "desc": "1"})
    assert [row["id"] for row in page.html.select("#catalogue tbody tr")] == ["reward-NIGHT", "reward-MUG"]
    page = testapp.get("/rewards", {"per_page": "1", "page": "2", "sort": "name"})
    assert [row["id"] for row in page.html.select("#catalogue tbody tr")] == ["reward-MUG"]
    assert testapp.get("/rewards", {"category": "item"}).html.select("#catalogue tbody tr")[0]["id"] == "reward-MUG"


def test_redemptions_of_another_outlet_are_out_of_scope(testapp, seed, cashier, catalogue):
    card_no = card_of(seed, "Xu Bo", card_type="standard")
    give_points(seed, card_no, 1000)
    spa = seed.db.scalar(select(Outlet).where(Outlet.code == "SPA"))
    made = rewards.redeem(seed.db, OutletContext(spa.id, "SPA"),
                          rewards.RedeemRequest(card_no, "MUG", 1, "R1", False), Decimal(100))
    seed.db.commit()
    testapp.post(f"/rewards/redemptions/{made.number}/collect", {"csrf_token": cashier}, status=404)
    testapp.get("/rewards", {"outlet": "SPA"}, status=403)


def test_manage_the_catalogue_create_edit_restock(testapp, seed, products):
    sign_in(testapp, seed, "mia", roles=("marketing",))
    page = testapp.get("/rewards/manage")
    form = page.forms["new-reward"]
    form["code"], form["name"], form["cost"], form["stock"] = "CAKE", "", "abc", "-1"
    bad = form.submit(status=400)
    for field in ("reward_name", "cost", "stock"):
        assert bad.html.select_one(f"#{field}")["aria-invalid"] == "true", field
    form = bad.forms["new-reward"]
    form["name"], form["cost"], form["stock"], form["category"] = "Birthday cake", "80.00", "5", "fnb_voucher"
    form["voucher_valid_days"] = "30"
    page = form.submit(status=303).follow()
    assert "The reward is added to the catalogue." in page.text
    assert audited(seed, "reward.create")[-1].after["cost_cents"] == 8000

    form = page.forms["edit-reward"]
    form["points_price"] = "5000"
    page = form.submit(status=303).follow()
    edit = audited(seed, "reward.edit")[-1]
    assert edit.before == {"points_price": None} and edit.after == {"points_price": 5000}

    form = page.forms["restock"]
    form["add"] = "0"
    assert form.submit(status=400).html.select_one("#add")["aria-invalid"] == "true"
    form["add"] = "4"
    page = form.submit(status=303).follow()
    assert page.html.select_one("#stock-now").text.strip() == "9"
    assert audited(seed, "reward.restock")[-1].after == {"stock": 9}
    testapp.post("/rewards/manage/CAKE/restock", {"add": "1"}, status=400)  # no CSRF token
    testapp.get("/rewards", status=403)  # marketing manages the catalogue but does not redeem


def test_the_cashier_screen_speaks_chinese(testapp, seed, cashier):
    card_no = card_of(seed, "Wu Lan")
    page = testapp.get("/cashier", {"card_no": card_no}, headers={"Accept-Language": "zh-CN"})
    assert "卡号（刷卡，或输入后按回车）" in page.text and "结算" in page.html.select_one("#settle").text
    assert "¥" in page.html.select_one("#balance-stored-value").text


def test_the_card_field_has_the_focus_until_a_card_is_found_then_the_bill_has_it(testapp, seed, cashier):
    page = testapp.get("/cashier")
    assert page.html.select_one("#card_no").has_attr("autofocus") and len(page.html.select("[data-autofocus]")) == 1
    page = testapp.get("/cashier", {"card_no": card_of(seed, "Tang Wei")})
    assert [field["id"] for field in page.html.select("[data-autofocus]")] == ["amount"]


def test_choosing_the_outlet_keeps_the_card_from_a_search_result(testapp, seed):
    from lps_core.operators.services import create_operator

    create_operator(seed.db, "twooutlets", "two-outlets-pass-1", roles=("cashier",), outlets=["REST", "SPA"],
                    must_change_password=False)
    seed.db.commit()
    page = testapp.get("/login")
    page.form["username"], page.form["password"] = "twooutlets", "two-outlets-pass-1"
    page.form.submit(status=303)
    choice = testapp.get("/cashier", {"card_no": "8800000000000013"})
    links = [a["href"] for a in choice.html.select(".outlet-choice a")]
    assert len(links) == 2 and all("card_no=8800000000000013" in link for link in links)


@pytest.mark.parametrize(("field", "value"), [
    ("name", "Li\x00Lei"), ("name", "x" * 10_000), ("phone", "+86\x00139"), ("phone", "9" * 10_000),
    ("card_no", "eight eight zero one"), ("card_no", "8" * 10_000), ("card_no", "88\x0001")])
def test_a_hostile_look_up_is_answered_beside_its_field(testapp, seed, cashier, field, value):
    """The desk's look-up is checked by the API's look-up query model: never a server error."""
    card_of(seed, "Li Lei")
    page = testapp.get("/cashier", {field: value}, expect_errors=True)
    assert 400 <= page.status_int < 500
    assert page.html.select_one(f"#{field}")["aria-invalid"] == "true"


def test_an_outlet_code_with_nul_or_of_any_length_is_not_found(testapp, seed, cashier):
    testapp.get("/cashier", {"outlet": "RE\x00ST"}, status=404)
    testapp.get("/cashier", {"outlet": "R" * 10_000}, status=404)


def test_another_outlets_settlement_page_answers_as_an_unknown_one(testapp, seed, products):
    sign_in(testapp, seed, "rest-cashier")
    card_no = card_of(seed, "Lu Ping")
    page = testapp.get("/cashier", {"card_no": card_no})
    fill_bill(bill_form(page), [("TEA", "drinks", "1", "10.00")], [("cash", "9.00")]).submit().follow()
    settlement_id = seed.db.scalar(select(Settlement.id))
    sign_in(testapp, seed, "spa-cashier", outlets=("SPA",))
    other = testapp.get(f"/cashier/settlements/{settlement_id}", status=404)
    unknown = testapp.get("/cashier/settlements/999999", status=404)
    assert other.status_int == unknown.status_int == 404


# --- The quick bill, settled in place --------------------------------------------------------------

FETCH = {"X-Requested-With": "fetch"}


def test_the_quick_bill_is_an_amount_with_the_members_discount(testapp, seed, cashier):
    card_no = card_of(seed, "Qiao Lin")
    page = testapp.get("/cashier", {"card_no": card_no})
    assert page.html.select_one("#bill")["data-rates"] == '{"": "0.1"}'  # the prepaid type's 10 %
    keys = [item.select_one("kbd").text for item in page.html.select("#key-legend li")]
    assert keys == ["F2", "F3", "F4", "F5", "F7", "F8", "F9", "F10", "Alt+1..9", "Alt+0", "Enter", "Esc"]
    assert {button["data-pay"] for button in page.html.select(".pay-buttons button")} == {
        "stored_value", "cash", "bank_card"}
    assert page.html.select_one("#offers") is None  # no coupons: no coupons' place
    form = bill_form(page)
    form["amount"] = "88.00"
    form["tender-0-kind"], form["tender-0-amount"] = "cash", "79.20"
    bill_no = form["bill_no"].value
    done = form.submit(status=303).follow()  # without the script: the settlement page
    assert "79.20" in done.html.select_one("#charged").text and "8.80" in done.html.select_one("#discount").text
    settlement = seed.db.scalar(select(Settlement).where(Settlement.bill_no == bill_no))
    assert settlement.items[0]["category"] is None and settlement.gross_cents == 8800


def test_a_settlement_sent_by_the_script_answers_in_place_and_prints_by_itself(testapp, seed, cashier):
    from lps_core.receipts.printers import PrinterSettings, save_printer

    outlet_id = seed.db.scalar(select(Outlet.id).where(Outlet.code == "REST"))
    save_printer(seed.db, outlet_id, PrinterSettings("network", "127.0.0.1:9", auto_print=True))
    seed.db.commit()
    card_no = card_of(seed, "Shen Yu")
    form = bill_form(testapp.get("/cashier", {"card_no": card_no}))
    form["amount"] = "200.00"
    form["tender-0-kind"], form["tender-0-amount"] = "cash", "180.00"
    answer = form.submit(headers=FETCH, status=200).json
    assert answer["settled"] and not answer["replayed"] and answer["auto_print"]
    assert answer["print_url"].endswith(f"/cashier/settlements/{answer['id']}/print")
    assert answer["settlement_url"].endswith(f"/cashier/settlements/{answer['id']}")
    assert "The bill is settled." in answer["html"] and "180.00" in answer["html"]
    assert audited(seed, "settlement.create")[-1].after["charged"] == "180.00"
    again = form.submit(headers=FETCH, status=200).json  # the same bill no.: the same settlement, no print
    assert again["id"] == answer["id"] and again["replayed"] and not again["auto_print"]
    assert "already settled" in again["html"]
    assert "The bill is settled." not in testapp.get("/cashier").text  # nothing flashed for later


def test_a_refused_settlement_sent_by_the_script_is_the_page_again_with_the_error_beside_the_field(
        testapp, seed, cashier):
    card_no = card_of(seed, "Ren Jie")
    form = bill_form(testapp.get("/cashier", {"card_no": card_no}))
    form["amount"] = "100.00"
    form["tender-0-kind"], form["tender-0-amount"] = "cash", "50.00"
    page = form.submit(headers=FETCH, status="4*")
    assert page.content_type == "text/html" and page.html.select_one("#cashier-main") is not None
    assert page.html.select_one("#amount")["value"] == "100.00"
    assert [error.text for error in page.html.select("#bill-box .error")] == ["must add up to 90.00"]
    assert seed.db.scalar(select(Settlement.id).where(Settlement.card_id == Card.id, Card.card_no == card_no)) is None


def test_items_and_an_amount_that_differ_are_refused_beside_the_amount(testapp, seed, cashier):
    form = fill_bill(bill_form(testapp.get("/cashier", {"card_no": card_of(seed, "Kong Yi")})),
                     [("TEA", "drinks", "1", "10.00")], [("cash", "9.00")])
    form["amount"] = "12.00"
    page = form.submit(status="4*")
    assert "differs from the sum of the items" in page.html.select_one("#amount").find_next("p", class_="error").text


def test_the_item_pickers_offer_the_known_skus_and_categories_with_their_discount(testapp, seed, cashier):
    from lps_core.earning.models import Promotion

    now = utcnow()
    seed.db.execute(insert(Promotion).values(code="TEA2X", name="Tea", kind="sku_bonus", params={"points": 5},
                                             starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=9),
                                             skus=["OOLONG"], categories=["tea"]))
    seed.db.execute(update(CardType).where(CardType.code == "prepaid")
                    .values(discount_overrides=[{"category": "wine", "rate": "0.05"}]))
    seed.db.commit()
    card_no = card_of(seed, "Fang Hui")
    form = fill_bill(bill_form(testapp.get("/cashier", {"card_no": card_no})),
                     [("STEAK", "food", "1", "100.00")], [("cash", "90.00")])
    form.submit(status=303)  # the outlet's recent bills add STEAK and food
    page = testapp.get("/cashier", {"card_no": card_no})
    options = {name: [option["value"] for option in page.html.select(f"#item-0-{name} option")]
               for name in ("sku", "category")}
    assert options == {"sku": ["", "OOLONG", "STEAK"], "category": ["", "food", "tea", "wine"]}
    assert page.html.select_one("#bill")["data-rates"] == (
        '{"": "0.1", "food": "0.1", "tea": "0.1", "wine": "0.05"}')


def test_a_cashier_lands_on_the_cashier_screen_and_others_on_the_dashboard(testapp, seed, products):
    from lps_core.operators.services import create_operator
    from lps_core.testing import csrf_of

    for username, roles in (("till", ("cashier",)), ("boss", ("administrator",))):
        create_operator(seed.db, username, PASSWORD, roles=roles, outlets=["REST"], must_change_password=False)
    seed.db.commit()
    landed = {}
    for username in ("till", "boss"):
        token = csrf_of(testapp.get("/login"))
        landed[username] = testapp.post("/login", {"username": username, "password": PASSWORD,
                                                   "csrf_token": token}, status=303).location
        testapp.post("/logout", {"csrf_token": csrf_of(testapp.get("/password"))})
    assert landed["till"].endswith("/cashier") and landed["boss"].endswith("/")
    token = csrf_of(testapp.get("/login"))
    asked = testapp.post("/login?next=/rewards", {"username": "till", "password": PASSWORD, "csrf_token": token},
                         status=303).location
    assert asked.endswith("/rewards")  # a page asked for wins


# --- Coupons after a swipe --------------------------------------------------------------------------

def coupons_for(seed, card_no):
    """Three coupons of the card's holder: 20.00 off from 50.00, 10 % off, and points x2."""
    from lps_core.coupons.services import TypeSpec, issue_one, save_type
    db = seed.db
    member_id = db.scalar(select(Card.member_id).where(Card.card_no == card_no))
    save_type(db, TypeSpec("OFF20", "20 off", "amount", value_cents=2000, valid_days=30, min_spend_cents=5000))
    save_type(db, TypeSpec("PCT10", "10 percent", "percent", percent=Decimal(10), valid_days=30))
    save_type(db, TypeSpec("DOUBLE", "Double points", "multiplier", multiplier=Decimal(2), valid_days=30))
    codes = {code: issue_one(db, code, member_id, source="staff", source_ref="desk-test").code
             for code in ("OFF20", "PCT10", "DOUBLE")}
    db.commit()
    return codes


def test_a_members_coupons_are_listed_after_a_look_up_greyed_under_their_minimum_spend(testapp, seed, cashier):
    card_no = card_of(seed, "Cao Ying")
    codes = coupons_for(seed, card_no)
    page = testapp.get("/cashier", {"card_no": card_no})
    offers = page.html.select("#offers li.offer")
    assert {offer["data-code"]: offer["data-kind"] for offer in offers} == {
        codes["OFF20"]: "amount", codes["PCT10"]: "percent", codes["DOUBLE"]: "multiplier"}
    keys = [offer.select_one("button")["data-key"] for offer in offers]
    assert keys == ["Alt+1", "Alt+2", "Alt+3"]
    greyed = {offer["data-code"] for offer in offers if offer.select_one("button").has_attr("disabled")}
    assert greyed == {codes["OFF20"]}  # nothing typed yet: under its 50.00
    # A refused bill of 100.00 (90.00 due) shows the coupon usable again.
    form = bill_form(page)
    form["amount"] = "100.00"
    refused = form.submit(status=400)
    assert not any(button.has_attr("disabled") for button in refused.html.select("#offers li.offer button"))


def test_a_coupon_pays_a_tender_line_once_and_a_refusal_is_shown_beside_it(testapp, seed, cashier):
    card_no = card_of(seed, "Du Juan")
    codes = coupons_for(seed, card_no)
    form = bill_form(testapp.get("/cashier", {"card_no": card_no}))
    form["amount"] = "100.00"  # 90.00 due
    form["tender-0-kind"], form["tender-0-amount"], form["tender-0-reference"] = "coupon", "25.00", codes["OFF20"]
    form["tender-1-kind"], form["tender-1-amount"] = "cash", "65.00"
    refused = form.submit(status=400)
    beside = refused.html.select_one(f'#offers li.offer[data-code="{codes["OFF20"]}"] .offer-error')
    assert beside is not None and "20.00" in beside.text  # pays at most 20.00
    form = bill_form(refused)
    form["tender-0-amount"], form["tender-1-amount"] = "20.00", "70.00"
    settled = form.submit(headers=FETCH).json
    assert settled["settled"] and settled["bill_no"]
    page = testapp.get("/cashier", {"card_no": card_no})
    assert codes["OFF20"] not in {offer["data-code"] for offer in page.html.select("#offers li.offer")}
    again = bill_form(page)
    again["amount"] = "100.00"
    again["tender-0-kind"], again["tender-0-amount"], again["tender-0-reference"] = "coupon", "20.00", codes["OFF20"]
    again["tender-1-kind"], again["tender-1-amount"] = "cash", "70.00"
    used = again.submit(status=400)
    assert used.html.select_one("#tenders tr.line .error") is not None  # used once: refused beside its line


def test_a_multiplier_coupon_is_applied_to_the_bill_just_settled(testapp, seed, cashier):
    card_no = card_of(seed, "Fan Bing")
    codes = coupons_for(seed, card_no)
    page = testapp.get("/cashier", {"card_no": card_no})
    apply_url = page.html.select_one("#offers [data-offers=coupons]")["data-apply-url"]
    form = bill_form(page)
    form["amount"] = "100.00"
    form["tender-0-kind"], form["tender-0-amount"] = "cash", "90.00"
    settled = form.submit(headers=FETCH).json
    token = page.html.select_one("input[name=csrf_token]")["value"]
    url = apply_url.replace("CODE", codes["DOUBLE"])
    applied = testapp.post(url, {"csrf_token": token, "outlet": "REST", "bill_no": settled["bill_no"]},
                           headers=FETCH).json
    earned = seed.db.scalar(select(Settlement.points).where(Settlement.id == settled["id"]))
    assert applied["applied"] and applied["points"] == earned > 0
    assert str(earned) in applied["message"]
    again = testapp.post(url, {"csrf_token": token, "outlet": "REST", "bill_no": settled["bill_no"]},
                         headers=FETCH).json
    assert again["points"] == earned  # the same bill again: the first application
    wrong = testapp.post(apply_url.replace("CODE", codes["PCT10"]),
                         {"csrf_token": token, "outlet": "REST", "bill_no": settled["bill_no"]},
                         headers=FETCH, status=422).json
    assert not wrong["applied"] and "code" in wrong["fields"]
    testapp.post(url, {"outlet": "REST", "bill_no": settled["bill_no"]}, status=400)  # CSRF


def test_a_deposit_links_its_receipt_to_print(testapp, seed, cashier):
    card_no = card_of(seed, "Gu Hong")
    page = testapp.get("/cashier", {"card_no": card_no})
    form = page.forms["deposit"]
    form["amount"] = "100.00"
    shown = form.submit().follow()
    link = shown.html.select_one("#movement-receipt")["href"]
    assert "/cashier/receipts/card_movement/" in link
    receipt = testapp.get(link)
    assert "100.00" in receipt.text
