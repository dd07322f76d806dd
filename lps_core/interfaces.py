"""The contracts that objects returned by plugins provide; checked with verifyObject at start-up."""
from zope.interface import Attribute, Interface


class IEarningFormula(Interface):
    """Turns a bill into base points for one outlet, with parameters stored on the outlet."""

    name = Attribute("Unique name that outlets use to choose this formula, e.g. 'base_rate'")
    description = Attribute("One line for staff screens and `lps plugins`")

    def validate_params(params):
        """Return the cleaned parameters, or raise ValueError naming the bad parameter."""

    def compute(bill, params):
        """Return an EarningResult for a Bill (lps_core.earning.formula), given cleaned parameters."""


class ITierModel(Interface):
    """Decides a member's tier from what they did in a qualification window."""

    name = Attribute("Unique name, e.g. 'points_threshold'")

    def qualify(activity, tiers):
        """Return the code of the tier that `activity` (a mapping of counters such as points,
        spend_cents, nights, stays) qualifies for, given `tiers` ordered from lowest to highest."""


class ISetBasedTierModel(ITierModel):
    """A tier model that can also answer in SQL, so `lps jobs tiers` evaluates a whole batch of
    members in one statement instead of calling qualify() once per member.

    Optional: the job checks `ISetBasedTierModel.providedBy(model)` and otherwise falls back to
    qualify() per member (correct, but too slow for a million members). Both methods must agree."""

    set_based = Attribute("True: qualified_rank_expression() is implemented")

    def qualified_rank_expression(counters, tiers):
        """Return a SQLAlchemy column expression giving the rank of the tier qualified for.

        `counters` maps each counter (points, spend_cents, nights, stays) to a numeric SQL
        expression: that counter summed over the qualification window, never NULL. `tiers` is what
        qualify() receives (lowest first), each tier also having an integer `rank`. The expression
        must be portable (PostgreSQL and SQLite), e.g. a CASE built with sqlalchemy.case()."""


class INotificationChannel(Interface):
    """Delivers a message to a member (e-mail, SMS, portal inbox)."""

    name = Attribute("Unique channel name, e.g. 'email'")

    def send(message):
        """Deliver an lps_core.notifications.Message (recipient, subject, body); raise an exception
        if it could not be sent, so that the message can be tried again."""


class ICardReaderDriver(Interface):
    """A kind of card reader, e.g. a magnetic-stripe reader on a serial port."""

    name = Attribute("Unique driver name, e.g. 'serial_magstripe'")

    def open(**options):
        """Open a device (options such as port and baudrate) and return an ICardReader."""


class ICardReader(Interface):
    """An open card reader."""

    def read_card(timeout):
        """Block up to `timeout` seconds; return the card number read, or None if none was presented.
        Raise ValueError (a driver may subclass it) when a card was presented but misread, so the
        terminal can ask for it again."""

    def close():
        """Release the device."""


class IPointExchange(Interface):
    """A partner merchant's adapter: converts between its points and LPS points."""

    partner = Attribute("The partner's code, as stored on its property")

    def to_lps_points(partner_points):
        """Return the integer LPS points worth `partner_points` of the partner's points."""

    def from_lps_points(lps_points):
        """Return the integer partner points worth `lps_points` LPS points."""
