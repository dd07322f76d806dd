"""The desk screens: the cashier's screen (look-up, bill, settle, receipt, refunds, deposits) and
rewards at the desk (redeem, collect, cancel; catalogue management). Thin views over the cashier,
cards and rewards services; every write is audited."""


def includeme(config):
    config.add_route("cashier", "/cashier")
    config.add_route("cashier.settle", "/cashier/settle")
    config.add_route("cashier.settlement", "/cashier/settlements/{id}")
    config.add_route("cashier.refund", "/cashier/settlements/{id}/refund")
    config.add_route("cashier.receipt", "/cashier/settlements/{id}/receipt")
    config.add_route("cashier.print", "/cashier/settlements/{id}/print")
    config.add_route("cashier.coupon", "/cashier/coupons/{code}/apply")  # a multiplier, after settling
    config.add_route("cashier.document_receipt", "/cashier/receipts/{kind}/{id}")  # document_receipts.py
    config.add_route("cashier.deposit", "/cashier/cards/{card_no}/deposit")
    config.add_route("cashier.top_up", "/cashier/cards/{card_no}/uses")
    config.add_route("cashier.repay", "/cashier/cards/{card_no}/repayment")
    config.add_route("rewards.desk", "/rewards")
    config.add_route("rewards.redeem", "/rewards/redeem")
    config.add_route("rewards.collect", "/rewards/redemptions/{no}/collect")
    config.add_route("rewards.cancel", "/rewards/redemptions/{no}/cancel")
    config.add_route("rewards.manage", "/rewards/manage")
    config.add_route("rewards.edit", "/rewards/manage/{code}")
    config.add_route("rewards.restock", "/rewards/manage/{code}/restock")
    config.scan("lps_core.screens.desk")
