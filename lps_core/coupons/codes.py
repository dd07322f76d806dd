"""Coupon codes: 10 random characters from an alphabet without look-alikes (no 0/O, 1/I/L), from
`secrets` (about 49 bits, so codes cannot be guessed from one another), and a check character so
that a mistyped code is refused as mistyped instead of naming another coupon."""
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX = "C"
RANDOM_CHARACTERS = 10


def check_character(body: str) -> str:
    """A weighted sum modulo the alphabet's size (Luhn mod N): catches any one wrong character and
    any swap of two neighbours."""
    n = len(ALPHABET)
    total = 0
    for index, char in enumerate(reversed(body)):
        value = ALPHABET.index(char)
        if index % 2 == 0:
            value *= 2
            value = value // n + value % n
        total += value
    return ALPHABET[(n - total % n) % n]


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARACTERS))
    return PREFIX + body + check_character(body)


def normalize(text: str) -> str:
    """A code as staff type it: case, spaces and dashes do not matter."""
    return "".join(text.split()).replace("-", "").upper()


def is_well_formed(code: str) -> bool:
    body = code[len(PREFIX):-1]
    return (code.startswith(PREFIX) and len(body) == RANDOM_CHARACTERS and all(c in ALPHABET for c in body + code[-1])
            and check_character(body) == code[-1])
