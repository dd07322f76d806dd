"""THE extension contract of LPS: every hook a plugin may implement.

Providers are named `lps_<noun>`, receive the app settings (the [app:main] section of the ini
file) if they ask for them, and return a list of objects that provide an interface from
lps_core.contract; events are named `lps_on_<event>` and return nothing. Implementations take only
the arguments they need, so new arguments can be added to a spec without breaking plugins.
"""
import pluggy

hookspec = pluggy.HookspecMarker("lps")
hookimpl = pluggy.HookimplMarker("lps")


@hookspec
def lps_earning_formulas(settings, options):
    """Return a list of objects providing IEarningFormula.

    Example::

        @hookimpl
        def lps_earning_formulas():
            return [BaseRateFormula()]
    """


@hookspec
def lps_tier_models(settings, options):
    """Return a list of objects providing ITierModel."""


@hookspec
def lps_settings():
    """Return a SettingsDeclaration: the ini prefix this plugin owns and the ProgrammeSettings model
    of its keys. Start-up validates them; provider hooks of the plugin receive the parsed model
    as `options`. An error names the plugin and the key, on one line.

    Example::

        @hookimpl
        def lps_settings():
            return SettingsDeclaration("lps.email.", EmailSettings)
    """


@hookspec
def lps_tenders(settings, options):
    """Return a list of objects providing ITender. Each is switched on or off per outlet."""


@hookspec
def lps_promotion_kinds(settings, options):
    """Return a list of objects providing IPromotionKind. Each is switched on or off per outlet."""


@hookspec
def lps_notification_channels(settings, options):
    """Return a list of objects providing INotificationChannel. Each is switched on or off per outlet."""


@hookspec
def lps_card_readers(settings, options):
    """Return a list of objects providing ICardReaderDriver; `driver.open(**options)` returns an ICardReader."""


@hookspec
def lps_pin_pads(settings, options):
    """Return a list of objects providing IPinPadDriver; `driver.open(**options)` returns an IPinPad."""


@hookspec
def lps_point_exchanges(settings, options):
    """Return a list of objects providing IPointExchange, one per exchange partner. Each is switched
    on or off per outlet."""


@hookspec
def lps_receipt_templates(settings):
    """Return a dict {template name: asset spec of a Chameleon .pt file} of receipt templates.

    Staff pick a template by name in an outlet's receipt layout. The names are global: two plugins
    registering one name stop start-up, as does a file that is missing or does not compile. LPS
    registers its own "lps-80mm" and "lps-a4" through this hook too.

    Example::

        @hookimpl
        def lps_receipt_templates():
            return {"classic": "lps_receipt_classic:templates/classic.pt"}
    """


@hookspec
def lps_includeme(config):
    """Called with the Pyramid Configurator, so a plugin can add its own routes, views and templates."""


@hookspec
def lps_on_bill_posted(dbsession, posted):
    """Called inside the transaction once a member's bill has been recorded and its points posted,
    before lps_on_points_posted; not called when a retry replays a bill posted before.

    `posted` is a BillPosted (lps_core.contract). The bill has already counted towards the member's
    activity. LPS's own listeners (plugin `lps_listeners`) make a dormant member active, move them
    up at once if they now qualify for a higher tier, and credit referral bonuses. Raising aborts the whole
    transaction: nothing of the bill is posted. Return nothing.

    Example::

        @hookimpl
        def lps_on_bill_posted(dbsession, posted):
            if posted.points >= 1000:
                dbsession.execute(insert(big_spenders).values(member_id=posted.member_id))
    """


@hookspec
def lps_on_bill_refunded(dbsession, refunded):
    """Called inside the transaction once all or part of a member's bill has been refunded and its
    points taken back, before lps_on_points_reversed; not called when a retry replays a refund.

    `refunded` is a BillRefunded (lps_core.contract). The refund's share of the bill has already been
    taken back from the member's activity. Raising aborts the refund. Return nothing.

    Example::

        @hookimpl
        def lps_on_bill_refunded(dbsession, refunded):
            if refunded.whole:
                dbsession.execute(delete(big_spenders).where(big_spenders.c.bill_id == refunded.bill_id))
    """


@hookspec
def lps_on_points_posted(dbsession, posting, bill):
    """Called inside the transaction after a bill earned points.

    `posting` is the ledger Posting, `bill` the EarnedBill. Raising aborts the whole transaction,
    so a listener that only notifies should write to an outbox rather than send directly."""


@hookspec
def lps_on_points_reversed(dbsession, posting, bill):
    """Called inside the transaction after points of a bill were taken back by a refund.

    `posting` is the reversal's ledger Posting (a negative amount); `bill` is the Refund, whose
    `bill_id` is the transaction refunded. Not called when a refund takes back no points."""


@hookspec
def lps_on_points_expiring(dbsession, member_id, account_id, points, expires_on):
    """Called by `lps jobs expire`, inside the batch's transaction, once per new expiry warning:
    `points` of the account expire on `expires_on` (a date, UTC), within
    lps.points.expiry_warning_days. Each warning is raised once. Raising aborts the batch, so a
    listener should write to an outbox rather than send directly."""


@hookspec
def lps_on_tier_changed(dbsession, member_id, old_tier, new_tier):
    """Called inside the transaction after a member's tier changed (codes, old_tier may be None)."""


@hookspec
def lps_on_credit_warning(dbsession, card_id, member_id, used_cents, limit_cents):
    """Called inside the transaction when a charge takes a card's credit line past its card type's
    credit_warning_ratio (once per crossing: a later charge above the threshold does not call it
    again until repayments bring usage below it). `member_id` is None for an anonymous card;
    amounts are integer cents. Raising aborts the charge, so notify through an outbox."""


@hookspec
def lps_on_member_approved(dbsession, member_id, card_no):
    """Called inside the transaction once a pending member has been approved: the member is active
    at the entry tier, their points account is open and `card_no` (a str) is their new card.
    Not called for a rejection. Raising aborts the approval, so a listener that only notifies should
    write to an outbox. Return nothing.

    Example::

        @hookimpl
        def lps_on_member_approved(dbsession, member_id, card_no):
            dbsession.execute(insert(crm_queue).values(member_id=member_id, card_no=card_no))
    """


@hookspec
def lps_on_redemption_changed(dbsession, member_id, redemption):
    """Called inside the transaction once a redemption of points for a reward has been made, collected
    or cancelled. `redemption` is its view (number, outlet_code, card_no, reward_code, reward_name,
    category, quantity, points, status, redeemed_at, collected_at, cancelled_at, cancel_reason,
    voucher_expires_at); `status` says what happened: "awaiting_pickup" (reserved), "collected"
    (at once or later) or "cancelled". `member_id` is None for an anonymous card. Not called when a
    retry replays a redemption. Raising aborts the change. Return nothing."""
