"""Input schemas of the tier API: buying a tier with points, and a staff floor."""
from lps_core.validation import Body, Code, ConfigTime, Text


class TierPurchaseIn(Body):
    """Idempotent on (member, purchase_no)."""

    tier: Code(description="The tier to buy")
    purchase_no: Text(64, description="The caller's number for this purchase, for safe retries")


class TierFloorIn(Body):
    tier: Code(description="The lowest tier the member keeps until expires_at")
    expires_at: ConfigTime
