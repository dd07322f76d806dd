"""Texts of the member screens that come from Python: flash messages and form errors, in the
`lps_members` domain. The names of stored codes (statuses, channels, ledger kinds) are labels
shared by every screen: lps_core/labels.py.

They are written as `dgettext("lps_members", ...)` because lingua files a plain `_()` under every
domain, while it files dgettext calls under the domain they name. Flash messages are translated
before they are stored, since the layout shows flashes in the `lps` domain."""
from lps_core.screens.shared import dgettext

DOMAIN = "lps_members"


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
