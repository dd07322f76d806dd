"""Amounts of the desk's documents as the screens read them."""
from decimal import Decimal


def cents_of(amount: str | None) -> int | None:
    """Cents from the decimal strings of the settlement document and look-up ("12.34")."""
    return None if amount is None else int(Decimal(amount) * 100)
