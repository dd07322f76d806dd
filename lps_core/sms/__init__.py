"""Inbound SMS commands: the gateway's webhook (views.py), its signature, timestamp and fields
(inbound.py), the replay guard and the commands (commands.py), and the answers (replies.py).
Outbound SMS is a notification channel plugin (plugins/lps-sms-gateway); docs/sms.md."""


def includeme(config):
    config.add_route("sms.inbound", "/hooks/sms/inbound")
    config.scan("lps_core.sms.views")
