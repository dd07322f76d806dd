"""The coupon types screen (赠券): the types with their rules, a form to save one, and issuing one
to a member by card number. Permission coupons.manage."""


def includeme(config):
    config.add_route("coupons", "/coupons")
    config.add_route("coupons.issue", "/coupons/issue")
    config.scan("lps_core.screens.coupons.views")
