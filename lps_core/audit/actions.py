"""Human names for audit entries: what an action code means ("card.status" to frozen is "Card
frozen"), what a field is called, and how a value reads, for the audit screen and its CSV export.

The action code stays in the log for filtering; the name is chosen when the entry is shown, in the
reader's language. A code that no name is known for (a plugin's, say) is shown as it is."""
import json

from pyramid.i18n import TranslationString


def dgettext(domain, message) -> TranslationString:
    """A text of the audit screen's domain (the catalog extractor files it under `domain` only)."""
    return TranslationString(message, domain=domain)


ACTIONS = {
    "operator.create": dgettext("lps_config", "Operator created"),
    "operator.roles": dgettext("lps_config", "Operator's roles and outlets changed"),
    "operator.enable": dgettext("lps_config", "Operator enabled"),
    "operator.disable": dgettext("lps_config", "Operator disabled"),
    "operator.password": dgettext("lps_config", "Password changed"),
    "operator.sign_in": dgettext("lps_config", "Signed in"),
    "operator.sign_in_failed": dgettext("lps_config", "Sign-in refused"),
    "operator.sign_in_throttled": dgettext("lps_config", "Sign-in throttled"),
    "operator.sign_out": dgettext("lps_config", "Signed out"),
    "member.enrol": dgettext("lps_config", "Member enrolled"),
    "member.edit": dgettext("lps_config", "Member edited"),
    "member.approve": dgettext("lps_config", "Member approved"),
    "member.reject": dgettext("lps_config", "Enrolment rejected"),
    "member.contact": dgettext("lps_config", "Contact logged"),
    "member.family.add": dgettext("lps_config", "Family member added"),
    "member.family.remove": dgettext("lps_config", "Family member removed"),
    "member.preferences": dgettext("lps_config", "Preferences changed"),
    "member.tier_purchase": dgettext("lps_config", "Tier purchased"),
    "member.tier_floor": dgettext("lps_config", "Tier floor set"),
    "points.adjust": dgettext("lps_config", "Points adjusted"),
    "card.status": dgettext("lps_config", "Card status changed"),
    "card.replace": dgettext("lps_config", "Card replaced"),
    "card.renew": dgettext("lps_config", "Card renewed"),
    "card.pin": dgettext("lps_config", "Card PIN set"),
    "card.tag": dgettext("lps_config", "Card's RFID tag changed"),
    "card.issue_anonymous": dgettext("lps_config", "Anonymous card issued"),
    "card.deposit": dgettext("lps_config", "Money deposited on a card"),
    "card.top_up": dgettext("lps_config", "Uses topped up"),
    "card.repayment": dgettext("lps_config", "Credit repaid"),
    "cards.pool_generate": dgettext("lps_config", "Card numbers generated"),
    "settlement.create": dgettext("lps_config", "Bill settled"),
    "settlement.refund": dgettext("lps_config", "Bill refunded"),
    "membership.sale": dgettext("lps_config", "Paid membership sold"),
    "membership.renewal": dgettext("lps_config", "Paid membership renewed"),
    "membership.cancel": dgettext("lps_config", "Paid membership cancelled"),
    "transaction.create": dgettext("lps_config", "Bill posted"),
    "transaction.reverse": dgettext("lps_config", "Bill reversed"),
    "receipt.print": dgettext("lps_config", "Receipt printed"),
    "redemption.create": dgettext("lps_config", "Reward redeemed"),
    "redemption.collect": dgettext("lps_config", "Reward collected"),
    "redemption.cancel": dgettext("lps_config", "Redemption cancelled"),
    "voucher.issue": dgettext("lps_config", "Vouchers issued"),
    "voucher.void": dgettext("lps_config", "Voucher voided"),
    "reward.create": dgettext("lps_config", "Reward created"),
    "reward.edit": dgettext("lps_config", "Reward edited"),
    "reward.restock": dgettext("lps_config", "Reward restocked"),
    "outlet.create": dgettext("lps_config", "Outlet created"),
    "outlet.edit": dgettext("lps_config", "Outlet edited"),
    "partner.create": dgettext("lps_config", "Partner created"),
    "partner.suspend": dgettext("lps_config", "Partner suspended"),
    "partner.reactivate": dgettext("lps_config", "Partner reactivated"),
    "partner.end": dgettext("lps_config", "Partner ended"),
    "partner.contract": dgettext("lps_config", "Partner contract version added"),
    "partner.contract_withdraw": dgettext("lps_config", "Partner contract version withdrawn"),
    "partner.adjustment": dgettext("lps_config", "Partner statement adjusted"),
    "partner.statement_close": dgettext("lps_config", "Partner statement period closed"),
    "outlet.rule_version": dgettext("lps_config", "Earning rule changed"),
    "outlet.receipt_layout": dgettext("lps_config", "Receipt layout changed"),
    "outlet.receipt_printer": dgettext("lps_config", "Receipt printer changed"),
    "tier.create": dgettext("lps_config", "Tier created"),
    "tier.edit": dgettext("lps_config", "Tier edited"),
    "tier.reorder": dgettext("lps_config", "Tiers reordered"),
    "tier.retire": dgettext("lps_config", "Tier retired"),
    "card_type.create": dgettext("lps_config", "Card type created"),
    "card_type.edit": dgettext("lps_config", "Card type edited"),
    "promotion.create": dgettext("lps_config", "Promotion created"),
    "promotion.edit": dgettext("lps_config", "Promotion edited"),
    "segment.save": dgettext("lps_config", "Segment saved"),
    "campaign.save": dgettext("lps_config", "Campaign saved"),
    "campaign.schedule": dgettext("lps_config", "Campaign scheduled"),
    "campaign.cancel": dgettext("lps_config", "Campaign cancelled"),
    "coupon_type.save": dgettext("lps_config", "Coupon type saved"),
    "coupon.issue": dgettext("lps_config", "Coupon issued"),
    "appeal.file": dgettext("lps_config", "Points appeal filed"),
    "appeal.approve": dgettext("lps_config", "Points appeal approved"),
    "appeal.reject": dgettext("lps_config", "Points appeal rejected"),
    "exchange.reconcile": dgettext("lps_config", "Exchange partner's statement reconciled"),
    "exchange.mismatch.resolve": dgettext("lps_config", "Exchange mismatch resolved"),
    "exchange.transfer.retry": dgettext("lps_config", "Exchange partner asked again about a transfer"),
    "config.message_template": dgettext("lps_config", "Message template changed"),
    "config.message_retry": dgettext("lps_config", "Dead letter sent again"),
    "webhook.create": dgettext("lps_config", "Webhook endpoint created"),
    "webhook.update": dgettext("lps_config", "Webhook endpoint changed"),
    "webhook.secret": dgettext("lps_config", "Webhook secret replaced"),
    "webhook.resend": dgettext("lps_config", "Webhook sent again"),
    "terminal.create": dgettext("lps_config", "Terminal registered"),
    "terminal.update": dgettext("lps_config", "Terminal changed"),
    "terminal.revoke": dgettext("lps_config", "Terminal revoked"),
    "promotion.active": dgettext("lps_config", "Promotion ended or resumed"),
    "plugin.switch": dgettext("lps_config", "Plugin switch changed"),
    "bulk.export": dgettext("lps_config", "Data exported"),
    "bulk.import_preview": dgettext("lps_config", "Import previewed"),
    "bulk.import_resolve": dgettext("lps_config", "Import conflict resolved"),
    "bulk.import_confirm": dgettext("lps_config", "Import confirmed"),
    "bulk.import_discard": dgettext("lps_config", "Import discarded"),
}

# Some codes read better once the new value is known.
CARD_STATUS_NAMES = {
    "frozen": dgettext("lps_config", "Card frozen"),
    "active": dgettext("lps_config", "Card unfrozen"),
    "lost": dgettext("lps_config", "Card reported lost"),
    "cancelled": dgettext("lps_config", "Card cancelled"),
}
PROMOTION_ENDED = dgettext("lps_config", "Promotion ended")
PROMOTION_RESUMED = dgettext("lps_config", "Promotion resumed")
PASSWORD_RESET = dgettext("lps_config", "Password reset (to be changed at the next sign-in)")


def action_name(action, after=None):
    """The human name of an entry's action: a TranslationString, or the code itself when unknown."""
    after = after or {}
    if action == "card.status" and after.get("status") in CARD_STATUS_NAMES:
        return CARD_STATUS_NAMES[after["status"]]
    if action == "promotion.active" and isinstance(after.get("active"), bool):
        return PROMOTION_RESUMED if after["active"] else PROMOTION_ENDED
    if action == "operator.password" and after.get("must_change_password") is True:
        return PASSWORD_RESET
    return ACTIONS.get(action, action)


# What an entry's target is, by its type; a type not listed is shown as stored.
TARGETS = {
    "member": dgettext("lps_config", "Member"),
    "card": dgettext("lps_config", "Card"),
    "operator": dgettext("lps_config", "Operator"),
    "settlement": dgettext("lps_config", "Settlement"),
    "transaction": dgettext("lps_config", "Transaction"),
    "redemption": dgettext("lps_config", "Redemption"),
    "reward": dgettext("lps_config", "Reward"),
    "voucher": dgettext("lps_config", "Voucher"),
    "outlet": dgettext("lps_config", "Outlet"),
    "promotion": dgettext("lps_config", "Promotion"),
    "tier": dgettext("lps_config", "Tier"),
    "card_type": dgettext("lps_config", "Card type"),
    "import_batch": dgettext("lps_config", "Import batch"),
    "export": dgettext("lps_config", "Export"),
}


def target_name(target_type):
    """The human name of a target type: a TranslationString when known, else the type itself."""
    return TARGETS.get(target_type, target_type or "")


FIELDS = {
    "name": dgettext("lps_config", "Name"),
    "phone": dgettext("lps_config", "Phone"),
    "email": dgettext("lps_config", "E-mail"),
    "birthday": dgettext("lps_config", "Birthday"),
    "gender": dgettext("lps_config", "Gender"),
    "id_number": dgettext("lps_config", "ID number"),
    "address": dgettext("lps_config", "Postal address"),
    "status": dgettext("lps_config", "Status"),
    "reason": dgettext("lps_config", "Reason"),
    "note": dgettext("lps_config", "Note"),
    "channel": dgettext("lps_config", "Channel"),
    "card_no": dgettext("lps_config", "Card number"),
    "card_type": dgettext("lps_config", "Card type"),
    "points": dgettext("lps_config", "Points"),
    "points_balance": dgettext("lps_config", "Points balance"),
    "amount": dgettext("lps_config", "Amount"),
    "roles": dgettext("lps_config", "Roles"),
    "outlets": dgettext("lps_config", "Outlets"),
    "active": dgettext("lps_config", "Active"),
    "username": dgettext("lps_config", "User name"),
    "display_name": dgettext("lps_config", "Display name"),
    "must_change_password": dgettext("lps_config", "Must change the password"),
    "contact_id": dgettext("lps_config", "Contact record"),
}
YES = dgettext("lps_config", "yes")
NO = dgettext("lps_config", "no")
NOTHING = "—"

# Which stored codes a field holds, as a kind of lps_core.labels ("card status"), so that the
# screen names them as everywhere else: by field, or by field and the entry's target type.
VALUE_KINDS = {"roles": "role", "gender": "gender", "formula": "formula"}
VALUE_KINDS_BY_TARGET = {
    ("status", "card"): "card status", ("status", "member"): "member status",
    ("status", "redemption"): "redemption status", ("channel", "member"): "contact channel",
}
VALUE_KINDS_BY_ACTION = {("channel", "member.enrol"): "enrolment channel"}


def field_name(name):
    """A field's human name: a TranslationString when known, else the name with spaces."""
    return FIELDS.get(name) or name.replace("_", " ").capitalize()


def value_kind(action, target_type, name) -> str | None:
    """The labels' kind of the codes that field `name` of an entry holds, or None."""
    return (VALUE_KINDS_BY_ACTION.get((name, action)) or VALUE_KINDS_BY_TARGET.get((name, target_type))
            or VALUE_KINDS.get(name))


def changed_fields(before, after) -> list[tuple]:
    """(field, before, after) for each field of an entry, as stored (already masked), in order."""
    before, after = before or {}, after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", before or None, after or None)]
    return [(name, before.get(name), after.get(name)) for name in dict.fromkeys([*before, *after])]


def shown_value(value, name_code=str, translate=str) -> str:
    """A stored value as text: yes/no, codes by their names (`name_code`), lists joined with commas,
    anything nested as compact JSON."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return translate(YES if value else NO)
    if isinstance(value, list) and all(not isinstance(item, (dict, list)) for item in value):
        return ", ".join(shown_value(item, name_code, translate) for item in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return name_code(value)
