"""The scopes an API key can carry, and the few a key gets when none are named.

Kept apart from services.py so that the CLI can show them in its help without loading the models."""

SCOPES = ("members", "members.approve", "cards.read", "transactions", "cashier", "rewards",
          "rules.manage", "tiers.manage", "cards.manage", "rewards.manage", "outlets.manage",
          "vouchers.manage", "plugins.manage", "plugins.programme", "exchange", "exchange.reconcile",
          "appeals",
          "website", "partners.manage", "reports", "webhooks.manage", "marketing", "coupons.manage")
# Least privilege: a key created without scopes can enrol members (a website's form) and look up
# cards, nothing else; every other scope is granted only by name. The CLI's help, docs/api.md and
# docs/configuration.md say so, and tests/test_authz.py compares them with this constant.
DEFAULT_SCOPES = ("members", "cards.read")
