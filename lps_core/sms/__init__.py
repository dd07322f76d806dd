"""Inbound SMS commands (webhook, signature, replay guard, command words and replies)."""
