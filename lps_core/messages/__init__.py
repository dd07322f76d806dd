"""Messages to members: delivering one through a notification channel (delivery.py), and
`lps message send` (commands.py)."""
