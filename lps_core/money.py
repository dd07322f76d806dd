"""Money is carried as integer cents; it leaves the API as a decimal string. Client input is read by
lps_core.validation.Money; `parse_amount` reads amounts LPS stored itself (card type steps, rule bands)
and settings, with the same rule: the text is checked before anything converts it."""
import re

_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?\Z")


def parse_amount(value, *, allow_zero=False) -> int:
    """Cents from a decimal string such as "123.45" (or a whole number of units); raises ValueError
    with a message for the field."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError('must be a decimal string such as "123.45"')
    text = str(value).strip()
    if not _AMOUNT.match(text):
        raise ValueError('must be a decimal string such as "123.45": up to 12 digits and 2 decimals')
    whole, _, fraction = text.partition(".")
    cents = int(whole) * 100 + int(fraction.ljust(2, "0") or "0")
    if cents == 0 and not allow_zero:
        raise ValueError("must be greater than 0")
    return cents


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
