"""Notification channels: a rendered message in, a delivery result out.

A channel never raises for a delivery that failed: it answers with a DeliveryResult that tells the
caller whether to try again (temporary), give up (permanent), or count it as delivered. An
exception from a channel is treated as a temporary failure, so a bug never loses a message."""
from dataclasses import dataclass, field

from zope.interface import Attribute, Interface

DELIVERED = "delivered"
TEMPORARY = "temporary"  # try again later: the gateway was down, timed out, throttled, or is set up wrongly
PERMANENT = "permanent"  # trying again cannot help: no such address, refused content
OUTCOMES = (DELIVERED, TEMPORARY, PERMANENT)


@dataclass(frozen=True)
class Message:
    """A rendered message to one recipient: an address the channel understands (an e-mail address,
    an E.164 phone number, a member id for the portal inbox). `message_id` is the idempotency key a
    channel passes to its gateway where the gateway supports one (e-mail: the Message-ID)."""

    recipient: str
    subject: str
    body: str
    message_id: str | None = None
    html: str | None = None
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryResult:
    """What became of one attempt to deliver a message."""

    outcome: str  # one of OUTCOMES
    detail: str = ""  # what the gateway said, for the delivery log
    gateway_id: str | None = None  # the gateway's own id of the message, when it gives one

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"a delivery outcome is one of {', '.join(OUTCOMES)}, not {self.outcome!r}")

    @property
    def delivered(self) -> bool:
        return self.outcome == DELIVERED

    @property
    def retry(self) -> bool:
        return self.outcome == TEMPORARY

    @classmethod
    def ok(cls, detail="", gateway_id=None):
        return cls(DELIVERED, detail, gateway_id)

    @classmethod
    def temporary(cls, detail):
        return cls(TEMPORARY, detail)

    @classmethod
    def permanent(cls, detail):
        return cls(PERMANENT, detail)


class INotificationChannel(Interface):
    """Delivers a message to a member (e-mail, SMS, portal inbox). Switched on per outlet."""

    name = Attribute("Unique channel name, e.g. 'email'")
    label = Attribute("A short name for staff screens")
    settings_schema = Attribute("A contract.OutletSettings subclass of its per-outlet settings, or None")

    def send(message, settings):
        """Deliver a Message with the settings in force (an instance of settings_schema: the outlet's,
        else the defaults; None without a schema); return a DeliveryResult. A failed delivery is a
        result, not an exception: temporary when a later try may succeed, permanent when none can."""
