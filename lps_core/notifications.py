"""What notification channels deliver. The outbox that queues messages after commit comes later."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """A notification to one recipient: an address the channel understands (e-mail, phone, member id)."""

    recipient: str
    subject: str
    body: str
