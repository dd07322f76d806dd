"""Delivering one rendered message through a notification channel, as it is switched on and set up
where the message is sent from.

This is the one place the core calls INotificationChannel.send. Whatever a channel does wrong
(raising, answering something that is not a DeliveryResult) is a temporary failure: a message is
tried again rather than lost because of a bug in a plugin."""
import logging

from lps_core.contract.messages import DeliveryResult, Message

log = logging.getLogger(__name__)


def deliver(db, plugins, message: Message, *, channel, outlet_id=None, outlet_code=None) -> DeliveryResult:
    """Send `message` through the channel named `channel` with the settings in force at the outlet
    (`outlet_id`; None: the programme as a whole). A channel not installed or switched off there is
    a 422 naming the field "channel" (`outlet_code` names the outlet in its message)."""
    state = plugins.switches.require(db, "channel", channel, outlet_id, field="channel", outlet_code=outlet_code)
    sender = plugins.component("channel", channel).obj
    try:
        result = sender.send(message, state.settings)
    except Exception as exc:
        log.exception("the channel %r raised instead of answering a DeliveryResult", channel)
        return DeliveryResult.temporary(f"the channel {channel!r} failed: {type(exc).__name__}: {exc}")
    if not isinstance(result, DeliveryResult):
        log.error("the channel %r answered %r, not a DeliveryResult", channel, result)
        return DeliveryResult.temporary(f"the channel {channel!r} answered {type(result).__name__}, "
                                        "not a DeliveryResult")
    return result
