"""Signed webhooks: events of the programme (a member approved, points posted, a tier changed, a
redemption reserved, fulfilled or cancelled) POSTed as signed JSON to the URLs staff configure.

- models.py: the endpoints and the delivery rows (why a table of its own: its docstring);
- settings.py: lps.webhooks.* (declared by the plugin `lps_webhooks`);
- subscriptions.py: which endpoints want which event, cached in the process (the earn path asks);
- services.py: endpoints (create, change, new secret), publishing an event, the log, re-sending;
- listeners.py: LPS's own listeners (plugin `lps_webhooks`) that turn hooks into events;
- delivery.py: signing and sending, run by `lps worker` (lps_core.messages.worker).

The screens are lps_core.screens.webhooks; docs/webhooks.md is the receiver's guide."""
