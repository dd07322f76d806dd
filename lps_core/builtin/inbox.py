"""LPS's own notification channel "inbox" (plugin `lps_inbox`): the member's inbox on the portal.

The outbox row is the message: delivering it through this channel marks it sent, and the portal
lists a member's sent inbox messages (lps_core.messages.inbox). So it never fails for a gateway's
reasons, and needs no settings. Like every channel it is switched per outlet, on by default."""
from zope.interface import implementer

from lps_core.contract import DeliveryResult, INotificationChannel, hookimpl


@implementer(INotificationChannel)
class PortalInbox:
    name = "inbox"
    label = "Portal inbox"
    settings_schema = None

    def send(self, message, settings):
        if not str(message.recipient or "").isdigit():
            return DeliveryResult.permanent(f"the portal inbox takes a member's id, not {message.recipient!r}")
        return DeliveryResult.ok("in the member's portal inbox", gateway_id=message.message_id)


@hookimpl
def lps_notification_channels():
    return [PortalInbox()]
