"""Money is carried as integer cents; it enters and leaves the API as a decimal string."""
from decimal import Decimal, InvalidOperation

MAX_CENTS = 10**13  # 100 billion currency units: far above any bill, well inside BIGINT


def parse_amount(value, *, allow_zero=False) -> int:
    """Cents from a decimal string such as "123.45" (or an exact JSON number, which the API parses as
    Decimal, never float); raises ValueError with a message for the field."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError("must be a decimal string such as \"123.45\"")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a decimal string such as \"123.45\"") from None
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount.as_tuple().exponent < -2:
        raise ValueError("must have at most 2 decimal places")
    cents = int(amount * 100)
    if cents < 0 or (cents == 0 and not allow_zero):
        raise ValueError("must be greater than 0" if not allow_zero else "must not be negative")
    if cents >= MAX_CENTS:
        raise ValueError("is too large")
    return cents


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
