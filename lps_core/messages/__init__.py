"""Messages to members: delivering one through a notification channel (delivery.py)."""
