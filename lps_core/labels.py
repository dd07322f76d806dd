"""The names staff read for stored codes: statuses, kinds, roles, channels... One table for every
screen, so that a code is named the same way everywhere and no template keeps its own list.

Templates call `label(kind, value)` (lps_core/screens/shell/i18n.py puts it in every page), e.g.
`${label("card status", card.status)}`. Each label is a message of the `lps` domain whose
message context (msgctxt) is its kind, so one English word can have a Chinese translation per
meaning: "active" is 正常 for a card and 进行中 for a promotion. A value without a label is shown
as stored, so a code that a plugin adds still shows, untranslated, until it gets one.

Plugins add their own kinds or values from their `lps_includeme` hook:

    config.add_labels("formula", {"nightly_rate": TranslationString("nightly rate", domain="my_plugin")})
"""
from pyramid.i18n import TranslationString

from lps_core.components import ILabels


def pgettext(context, msgid) -> TranslationString:
    """A label of the `lps` domain in a message context; `make catalogs` extracts these calls."""
    return TranslationString(msgid, domain="lps", context=context)


MEMBER_STATUS = "member status"
CARD_STATUS = "card status"
LEDGER_ENTRY = "ledger entry"
TENDER = "tender"

LABELS: dict[str, dict[str, TranslationString]] = {
    MEMBER_STATUS: {
        "pending": pgettext("member status", "waiting for approval"),
        "active": pgettext("member status", "active"),
        "dormant": pgettext("member status", "dormant"),
        "suspended": pgettext("member status", "suspended"),
        "closed": pgettext("member status", "closed"),
        "rejected": pgettext("member status", "rejected"),
    },
    "enrolment channel": {
        "desk": pgettext("enrolment channel", "desk"),
        "web": pgettext("enrolment channel", "web"),
    },
    "gender": {
        "female": pgettext("gender", "female"),
        "male": pgettext("gender", "male"),
        "other": pgettext("gender", "other"),
        "unspecified": pgettext("gender", "unspecified"),
    },
    "contact channel": {
        "phone": pgettext("contact channel", "phone"),
        "email": pgettext("contact channel", "e-mail"),
        "sms": pgettext("contact channel", "SMS"),
        "wechat": pgettext("contact channel", "WeChat"),
        "in_person": pgettext("contact channel", "in person"),
        "letter": pgettext("contact channel", "letter"),
    },
    "preference": {
        "room": pgettext("preference", "Room"),
        "pillow": pgettext("preference", "Pillow"),
        "dietary": pgettext("preference", "Dietary needs"),
    },
    CARD_STATUS: {
        "unissued": pgettext("card status", "unissued"),
        "pending": pgettext("card status", "not yet active"),
        "active": pgettext("card status", "active"),
        "frozen": pgettext("card status", "frozen"),
        "lost": pgettext("card status", "lost"),
        "replaced": pgettext("card status", "replaced"),
        "cancelled": pgettext("card status", "cancelled"),
    },
    "account": {
        "points": pgettext("account", "points"),
        "stored_value": pgettext("account", "stored value"),
        "bonus_value": pgettext("account", "bonus value"),
        "uses": pgettext("account", "uses"),
        "credit": pgettext("account", "credit used"),
    },
    "counter": {
        "points": pgettext("counter", "points"),
        "spend_cents": pgettext("counter", "spend"),
        "nights": pgettext("counter", "nights"),
        "stays": pgettext("counter", "stays"),
        "bills": pgettext("counter", "bills"),
    },
    LEDGER_ENTRY: {
        "earn": pgettext("ledger entry", "earned"),
        "debit": pgettext("ledger entry", "spent"),
        "reversal": pgettext("ledger entry", "reversal"),
        "adjustment": pgettext("ledger entry", "adjustment"),
        "expiry": pgettext("ledger entry", "expired"),
        "bonus": pgettext("ledger entry", "bonus"),
        "redeem": pgettext("ledger entry", "redemption"),
        "tier_purchase": pgettext("ledger entry", "tier purchase"),
        "deposit": pgettext("ledger entry", "deposit"),
        "deposit_bonus": pgettext("ledger entry", "deposit bonus"),
        "top_up": pgettext("ledger entry", "top-up"),
        "repayment": pgettext("ledger entry", "repayment"),
        "payment": pgettext("ledger entry", "payment"),
        "charge": pgettext("ledger entry", "charge"),
        "use": pgettext("ledger entry", "use"),
        "issue": pgettext("ledger entry", "issued"),
        "exchange_in": pgettext("ledger entry", "from an exchange partner"),
        "exchange_out": pgettext("ledger entry", "to an exchange partner"),
        "exchange_adjustment": pgettext("ledger entry", "exchange reconciliation adjustment"),
    },
    TENDER: {
        "cash": pgettext("tender", "Cash"),
        "bank_card": pgettext("tender", "Bank card"),
        "stored_value": pgettext("tender", "Stored value"),
        "credit": pgettext("tender", "Credit account"),
        "uses": pgettext("tender", "Card uses"),
        "voucher": pgettext("tender", "Voucher"),
        "transfer": pgettext("tender", "Transfer"),
        "other": pgettext("tender", "Other"),
        "points": pgettext("tender", "Points"),
    },
    "promotion kind": {
        "multiplier": pgettext("promotion kind", "points multiplier"),
        "bonus": pgettext("promotion kind", "bonus points"),
        "sku_bonus": pgettext("promotion kind", "bonus per product"),
        "first_stay": pgettext("promotion kind", "first stay"),
        "enrolment": pgettext("promotion kind", "enrolment"),
        "referral": pgettext("promotion kind", "referral"),
    },
    "promotion stacking": {
        "stack": pgettext("promotion stacking", "adds to the others"),
        "best_of": pgettext("promotion stacking", "only the best of these applies"),
        "exclusive": pgettext("promotion stacking", "one per exclusive group"),
    },
    "cap period": {
        "day": pgettext("cap period", "day"),
        "month": pgettext("cap period", "month"),
        "year": pgettext("cap period", "year"),
        "promotion": pgettext("cap period", "whole promotion"),
    },
    "rounding": {
        "floor": pgettext("rounding", "round down"),
        "half_up": pgettext("rounding", "round half up"),
        "half_even": pgettext("rounding", "round half to even"),
    },
    "band basis": {
        "bill": pgettext("band basis", "the bill's amount"),
        "period_spend": pgettext("band basis", "spend in the period"),
    },
    "band period": {
        "month": pgettext("band period", "month"),
        "year": pgettext("band period", "year"),
    },
    "breakdown step": {
        "formula": pgettext("breakdown step", "Outlet formula"),
        "band": pgettext("breakdown step", "Spend band"),
        "tier": pgettext("breakdown step", "Tier multiplier"),
        "card_type": pgettext("breakdown step", "Card multiplier"),
        "promotion": pgettext("breakdown step", "Promotion"),
        "cap": pgettext("breakdown step", "Cap per bill"),
        "rounding": pgettext("breakdown step", "Rounding"),
        "expired": pgettext("breakdown step", "Already expired"),
    },
    "redemption status": {
        "collected": pgettext("redemption status", "Collected"),
        "awaiting_pickup": pgettext("redemption status", "Awaiting pick-up"),
        "cancelled": pgettext("redemption status", "Cancelled"),
    },
    "reward category": {
        "item": pgettext("reward category", "Item"),
        "room_night": pgettext("reward category", "Room night"),
        "fnb_voucher": pgettext("reward category", "Food and drink voucher"),
    },
    "role": {
        "administrator": pgettext("role", "Administrator"),
        "outlet_manager": pgettext("role", "Outlet manager"),
        "cashier": pgettext("role", "Cashier"),
        "front_desk": pgettext("role", "Front desk"),
        "marketing": pgettext("role", "Marketing"),
        "finance_auditor": pgettext("role", "Finance auditor"),
        "hq_analyst": pgettext("role", "HQ analyst"),
    },
    "qualification": {
        "points": pgettext("qualification", "points"),
        "spend": pgettext("qualification", "spend"),
        "nights": pgettext("qualification", "nights"),
        "stays": pgettext("qualification", "stays"),
    },
    # Earning formulas come from plugins, which name theirs with config.add_labels("formula", ...).
    "formula": {},
}


class Labels:
    """The labels of one application: core's table plus what plugins add."""

    def __init__(self, table=LABELS):
        self.table = {kind: dict(values) for kind, values in table.items()}

    def add(self, kind, values):
        self.table.setdefault(kind, {}).update(values)

    def get(self, kind, value):
        """The label of `value` as a `kind`, as a TranslationString; the value itself (a str) when
        it has none. KeyError for a kind nobody declared: a typo in a template fails loudly."""
        if value is None or value == "":
            return ""
        return self.table[kind].get(value, value)


def add_labels(config, kind, values):
    """Configurator directive: `config.add_labels(kind, {value: TranslationString})`."""
    config.registry.getUtility(ILabels).add(kind, values)


def includeme(config):
    config.registry.registerUtility(Labels(), ILabels)
    config.add_directive("add_labels", add_labels)
