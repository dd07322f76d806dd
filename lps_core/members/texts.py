"""Texts of the member screens that come from Python: flash messages, form errors and the labels
of stored codes (statuses, channels, ledger kinds), all in the `lps_members` domain.

They are written as `dgettext("lps_members", ...)` because lingua files a plain `_()` under every
domain, while it files dgettext calls under the domain they name. Flash messages are translated
before they are stored, since the layout shows flashes in the `lps` domain."""
from pyramid.i18n import TranslationString

DOMAIN = "lps_members"


def dgettext(domain, msgid):
    return TranslationString(msgid, domain=domain)


SAVED = dgettext("lps_members", "Saved.")
ENROLLED = dgettext("lps_members", "The enrolment is recorded and waits for approval.")
APPROVED = dgettext("lps_members", "The member is approved and has a card.")
REJECTED = dgettext("lps_members", "The enrolment is rejected.")
ADJUSTED = dgettext("lps_members", "The points are adjusted.")
CARD_CHANGED = dgettext("lps_members", "The card's status is changed.")
CARD_REPLACED = dgettext("lps_members", "The card is replaced; its balances moved to the new card.")
CONTACT_ADDED = dgettext("lps_members", "The contact is added to the log.")
FAMILY_ADDED = dgettext("lps_members", "The family member is added.")
FAMILY_REMOVED = dgettext("lps_members", "The family member is removed.")
REQUIRED = dgettext("lps_members", "is required")
OUTLET_REQUIRED = dgettext("lps_members", "choose one of your outlets")
WHOLE_NUMBER = dgettext("lps_members", "must be a whole number, e.g. 500 or -200")

LABELS = {
    # member statuses
    "pending": dgettext("lps_members", "pending"),
    "active": dgettext("lps_members", "active"),
    "dormant": dgettext("lps_members", "dormant"),
    "suspended": dgettext("lps_members", "suspended"),
    "closed": dgettext("lps_members", "closed"),
    "rejected": dgettext("lps_members", "rejected"),
    # card statuses
    "unissued": dgettext("lps_members", "unissued"),
    "frozen": dgettext("lps_members", "frozen"),
    "lost": dgettext("lps_members", "lost"),
    "replaced": dgettext("lps_members", "replaced"),
    "cancelled": dgettext("lps_members", "cancelled"),
    # enrolment channels
    "desk": dgettext("lps_members", "desk"),
    "web": dgettext("lps_members", "web"),
    # genders
    "female": dgettext("lps_members", "female"),
    "male": dgettext("lps_members", "male"),
    "other": dgettext("lps_members", "other"),
    "unspecified": dgettext("lps_members", "unspecified"),
    # contact channels
    "phone": dgettext("lps_members", "phone"),
    "email": dgettext("lps_members", "e-mail"),
    "sms": dgettext("lps_members", "SMS"),
    "wechat": dgettext("lps_members", "WeChat"),
    "in_person": dgettext("lps_members", "in person"),
    "letter": dgettext("lps_members", "letter"),
    # preferences
    "room": dgettext("lps_members", "Room"),
    "pillow": dgettext("lps_members", "Pillow"),
    "dietary": dgettext("lps_members", "Dietary needs"),
    # account kinds
    "points": dgettext("lps_members", "points"),
    "stored_value": dgettext("lps_members", "stored value"),
    "bonus_value": dgettext("lps_members", "bonus value"),
    "uses": dgettext("lps_members", "uses"),
    "credit": dgettext("lps_members", "credit used"),
    # tier counters
    "spend_cents": dgettext("lps_members", "spend"),
    "nights": dgettext("lps_members", "nights"),
    "stays": dgettext("lps_members", "stays"),
    # ledger entry kinds
    "earn": dgettext("lps_members", "earned"),
    "debit": dgettext("lps_members", "spent"),
    "reversal": dgettext("lps_members", "reversal"),
    "adjustment": dgettext("lps_members", "adjustment"),
    "expiry": dgettext("lps_members", "expired"),
    "bonus": dgettext("lps_members", "bonus"),
    "redeem": dgettext("lps_members", "redemption"),
    "tier_purchase": dgettext("lps_members", "tier purchase"),
    "deposit": dgettext("lps_members", "deposit"),
    "deposit_bonus": dgettext("lps_members", "deposit bonus"),
    "top_up": dgettext("lps_members", "top-up"),
    "repayment": dgettext("lps_members", "repayment"),
    "payment": dgettext("lps_members", "payment"),
    "charge": dgettext("lps_members", "charge"),
    "use": dgettext("lps_members", "use"),
    "issue": dgettext("lps_members", "issued"),
}


def label(localizer, code):
    """The translated label of a stored code; a code without one is shown as it is."""
    text = LABELS.get(code)
    return localizer.translate(text) if text is not None else code
