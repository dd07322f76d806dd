"""Parsers and formatters that plugins share with the core, so a formula reads an amount or a rate
exactly as the core does."""
from decimal import Decimal, InvalidOperation

from lps_core.cards.luhn import luhn_check_digit, luhn_valid
from lps_core.money import format_cents, parse_amount

__all__ = ["format_cents", "parse_amount", "parse_rate", "parse_positive_int", "luhn_valid", "luhn_check_digit"]


def parse_rate(value, *, name="rate", minimum=Decimal(0), maximum=None) -> Decimal:
    """A decimal from a string or whole number (never a float); ValueError names the parameter."""
    if isinstance(value, (bool, float)) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f'{name} must be a decimal string such as "1.5"')
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f'{name} must be a decimal string such as "1.5", not {value!r}') from None
    if not rate.is_finite() or rate < minimum or (maximum is not None and rate > maximum):
        bound = f"at least {minimum}" + (f" and at most {maximum}" if maximum is not None else "")
        raise ValueError(f"{name} must be {bound}")
    return rate


def parse_positive_int(value, *, name, minimum=1, maximum=None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ValueError(f"{name} must be a whole number")
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"at least {minimum}" + (f" and at most {maximum}" if maximum is not None else "")
        raise ValueError(f"{name} must be {bound}")
    return number
