"""Luhn check digits, so that a mistyped card number is told apart from an unknown one."""


def luhn_check_digit(digits: str) -> str:
    """The digit to append to `digits` so that the whole number passes the Luhn check."""
    if not digits.isdigit():
        raise ValueError("card number payload must be digits only")
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # these get doubled once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    if len(number) < 2 or not number.isdigit():
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def with_check_digit(digits: str) -> str:
    return digits + luhn_check_digit(digits)
