"""Inbound SMS commands: the signature, timestamp and fields of what the gateway posts
(inbound.py), the replay guard and the commands (commands.py), and the answers (replies.py); the
webhook's view is lps_core.http.sms. Outbound SMS is a notification channel plugin
(plugins/lps-sms-gateway); docs/sms.md."""


def includeme(config):
    config.include("lps_core.http.sms")
