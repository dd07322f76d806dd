"""What an audit entry may hold: staff secrets are dropped, personal data is masked.

`audit.services.record` passes every entry's values through `cleaned()`, so no caller can forget
it. A field is judged by its name, at any depth of the values:

- a secret (password, PIN, secret, token, CSRF token, API key, a "confirm" field that repeats a new
  password, a hash, a session) is dropped: not even its name reaches the log, unless its value is a
  plain yes/no such as `must_change_password`;
- personal data is masked: a phone number keeps its first 3 and last 4 characters
  ("138****0042"), an ID or passport number its last 4, an e-mail address its first letter and
  its domain, an address, a date of birth and any other column that lps_core.pii encrypts or
  indexes become "***";
- any other text is scanned for personal data or a secret written where no name announces it (a
  note, a reason, an unknown field): an e-mail address, a number shaped like a phone number (with
  a leading +, a mainland mobile 1[3-9]xxxxxxxxx, a trunk-prefixed 0xx...), an ID number (18
  characters with a valid check digit, or 15 digits), an API key. Other numbers, such as card
  numbers (16 digits) and amounts, stay readable; identifiers (card, bill and redemption numbers,
  codes, ids) are not scanned.
"""
import re
from itertools import pairwise

from lps_core.db.meta import Base
from lps_core.pii import BlindIndex, EncryptedText

HIDDEN = "***"

SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "passphrase", "pin", "pins", "secret", "secrets", "token", "tokens", "csrf",
    "confirm", "hash", "authorization", "cookie", "session", "otp", "cvv", "cvc", "credential", "credentials",
})
EMAIL_WORDS = frozenset({"email", "mail"})
PHONE_WORDS = frozenset({"phone", "mobile", "tel", "telephone", "cellphone", "fax", "msisdn"})
ID_WORDS = frozenset({"passport", "identity", "ssn"})
ID_NAMES = frozenset({"id_number", "idnumber", "id_no", "id_card", "id_card_no", "national_id", "identity_number"})
HIDDEN_WORDS = frozenset({"address", "birthday", "birth", "birthdate", "dob"})
IDENTIFIER_WORDS = frozenset({"no", "number", "code", "id", "ids", "prefix", "card", "at"})

EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NUMBER_IN_TEXT = re.compile(r"(?<![\w*+])\+?\d(?:[ \-]?\d){6,}[Xx]?(?![\w*])")
ID_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_DIGITS = "10X98765432"
API_KEY_IN_TEXT = re.compile(r"\blps_[0-9a-f]{6,}_[\w-]{16,}")


def cleaned(values):
    """The values with secrets dropped and personal data masked (a new object; None stays None)."""
    return _clean(values, None)


def without_secrets(values):
    """The values with secrets dropped, personal data still in clear (to compare before and after)."""
    if isinstance(values, dict):
        return {name: without_secrets(value) for name, value in values.items()
                if not (is_secret(name) and not isinstance(value, bool) and value is not None)}
    if isinstance(values, list):
        return [without_secrets(value) for value in values]
    return values


def is_secret(name) -> bool:
    words = _words(name)
    return bool(SECRET_WORDS.intersection(words)) or name.lower() == "key" or _has_api_key(words)


def _has_api_key(words) -> bool:
    return "apikey" in words or any(first == "api" and second == "key" for first, second in pairwise(words))


def masker(name):
    """How the value of field `name` is masked, or None when the name says nothing personal."""
    words = _words(name)
    joined = "_".join(words)
    if EMAIL_WORDS.intersection(words) or joined == "e_mail":
        return mask_email
    if PHONE_WORDS.intersection(words):
        return mask_phone
    if joined in ID_NAMES or ID_WORDS.intersection(words):
        return mask_id_number
    if HIDDEN_WORDS.intersection(words) or joined in _encrypted_columns():
        return hide
    return None


def mask_phone(value) -> str:
    compact = re.sub(r"[\s\-().]", "", str(value))
    if len(compact) < 8:
        return HIDDEN
    return compact[:3] + "*" * (len(compact) - 7) + compact[-4:]


def mask_id_number(value) -> str:
    compact = re.sub(r"\s", "", str(value))
    if len(compact) < 8:
        return HIDDEN
    return "*" * (len(compact) - 4) + compact[-4:]


def mask_email(value) -> str:
    local, at, domain = str(value).strip().rpartition("@")
    if not at or not local:
        return HIDDEN
    return f"{local[0]}***@{domain}"


def hide(value) -> str:
    return HIDDEN


def scrub_text(text: str) -> str:
    """Free text with e-mail addresses, long numbers and API keys inside it masked."""
    text = API_KEY_IN_TEXT.sub(HIDDEN, text)
    text = EMAIL_IN_TEXT.sub(lambda match: mask_email(match.group()), text)
    return NUMBER_IN_TEXT.sub(_masked_number, text)


def _masked_number(match) -> str:
    compact = re.sub(r"[ \-]", "", match.group())
    return mask_id_number(compact) if looks_personal(compact) else match.group()


def looks_personal(number: str) -> bool:
    """Whether a number (digits, perhaps a leading + or a final X) is shaped like a phone or ID number."""
    digits = number.lstrip("+")
    if number.startswith("+"):
        return 8 <= len(digits) <= 15 and digits.isdigit()
    if re.fullmatch(r"1[3-9]\d{9}|0\d{9,11}|\d{15}", digits):
        return True
    return len(digits) == 18 and digits[:17].isdigit() and digits[17].upper() == ID_CHECK_DIGITS[
        sum(int(digit) * weight for digit, weight in zip(digits[:17], ID_CHECK_WEIGHTS)) % 11]


def _clean(value, name):
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            key = str(key)
            if is_secret(key) and not isinstance(item, bool) and item is not None:
                continue
            mask = masker(key)
            if mask is not None:
                kept[key] = _masked(item, mask)
            else:
                kept[key] = _clean(item, key)
        return kept
    if isinstance(value, list):
        return [_clean(item, name) for item in value]
    if isinstance(value, str):
        if name is not None and IDENTIFIER_WORDS.intersection(_words(name)):
            return API_KEY_IN_TEXT.sub(HIDDEN, value)
        return scrub_text(value)
    return value


def _masked(value, mask):
    if value is None or value == "" or isinstance(value, bool):
        return value
    if isinstance(value, list):
        return [_masked(item, mask) for item in value]
    if isinstance(value, dict):
        return HIDDEN
    return mask(value)


def _words(name) -> list[str]:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return re.findall(r"[a-z]+|[0-9]+", name.lower())


_encrypted = {"tables": -1, "names": frozenset()}


def _encrypted_columns() -> frozenset:
    """Names of the columns that lps_core.pii encrypts or indexes, in every table known so far."""
    tables = Base.metadata.tables
    if _encrypted["tables"] != len(tables):
        _encrypted["names"] = frozenset(column.name for table in tables.values() for column in table.columns
                                        if isinstance(column.type, (EncryptedText, BlindIndex)))
        _encrypted["tables"] = len(tables)
    return _encrypted["names"]
