"""Messages to members: the outbox written in the business transaction (outbox.py, models.py),
templates (templates.py), consent (consent.py), delivery through a notification channel
(delivery.py) by `lps worker` (worker.py), the portal inbox (inbox.py), the unsubscribe link
(unsubscribe.py, web.py), and `lps message send` (commands.py). See docs/messages.md."""


def includeme(config):
    """The public unsubscribe page of marketing e-mail."""
    config.include("lps_core.messages.web")
