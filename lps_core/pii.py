"""Personal data at rest: members' phone numbers, ID numbers and addresses are stored encrypted,
each with a blind index (a keyed hash) for exact look-ups such as "the member with this phone".

Keys come from the settings, never from the code:
- `lps.pii.keys`: Fernet keys (AES-128-CBC + HMAC-SHA256), separated by spaces or commas, the
  newest first. New values are encrypted with the first; every key still decrypts, so a new key
  can be put in front and `lps pii rotate` then re-encrypts the old rows with it.
- `lps.pii.index_key`: the secret of the blind indexes (HMAC-SHA256), at least 32 characters.
  After changing it, `lps pii rotate` recomputes every index from the decrypted values.
- `lps.phone.default_region`: the region (ISO 3166 code, "CN" unless set) in which a phone number
  written without its country code is read. Phone numbers are stored and indexed in E.164, so
  "13800000042", "138-0000-0042" and "+86 138 0000 0042" are one number, +8613800000042.

The keys are attached to the database engine's dialect, so the column types below find them
without a global: code reads and writes plain text, queries compare `Member.phone_index == phone`
with the plain phone number, and only ciphertext and hashes reach the database.
"""
import hashlib
import hmac
import re

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import String, Text
from sqlalchemy.types import TypeDecorator

from lps_core.errors import ConfigurationError
from lps_core.settings import DEFAULT_PHONE_REGION, settings_of

MIN_INDEX_KEY_LENGTH = 32
# What a phone number may be written with: digits (full-width too), spaces, dashes, dots, brackets,
# a leading +. Letters ("1-800-FLOWERS") are refused rather than read as digits.
PHONE_TEXT = re.compile(r"^\s*\+?[\d\s().\-\uff08\uff09]{1,40}$")


def phone_e164(text, region=DEFAULT_PHONE_REGION) -> str | None:
    """The phone number in E.164 ("+8613800000042"), reading a number without a country code in
    `region`; None when the text is not a valid phone number."""
    if not isinstance(text, str) or not PHONE_TEXT.match(text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PiiKeys:
    def __init__(self, fernet_keys, index_key: str, phone_region: str = DEFAULT_PHONE_REGION):
        if not fernet_keys:
            raise ConfigurationError("lps.pii.keys must name at least one key (make one with `lps pii new-key`)")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in fernet_keys])
        except ValueError:
            raise ConfigurationError("lps.pii.keys holds a key that is not a Fernet key (32 url-safe base64 "
                                     "bytes; make one with `lps pii new-key`)") from None
        if not index_key or len(index_key) < MIN_INDEX_KEY_LENGTH:
            raise ConfigurationError(f"lps.pii.index_key must be at least {MIN_INDEX_KEY_LENGTH} characters")
        self._index_key = index_key.encode()
        self.phone_region = phone_region

    @classmethod
    def from_settings(cls, settings) -> "PiiKeys | None":
        """The keys of the typed settings or of a mapping of ini keys, or None when neither key is
        set (tools that touch no personal data)."""
        pii = settings_of(settings).pii
        return cls(list(pii.keys), pii.index_key or "", pii.phone_region) if pii.configured else None

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigurationError("personal data cannot be decrypted with lps.pii.keys: "
                                     "a key that encrypted it is missing") from None

    def rotate(self, token: str) -> str:
        """The token re-encrypted with the newest key."""
        return self._fernet.rotate(token.encode()).decode()

    def phone_e164(self, text) -> str | None:
        """`text` in E.164, read in this installation's default region; None when not a phone number."""
        return phone_e164(text, self.phone_region)

    def index(self, kind: str, text: str) -> str:
        return hmac.new(self._index_key, f"{kind}:{self.normalize(kind, text)}".encode(), hashlib.sha256).hexdigest()

    def normalize(self, kind, text) -> str:
        """The form indexed and looked up: a phone number in E.164 (or, for text that is no valid
        number, its digits and a leading +, which match nothing stored since 0011); an ID number
        without spaces, upper case."""
        if kind == "phone":
            return self.phone_e164(text) or re.sub(r"[^0-9+]", "", text)
        return re.sub(r"\s", "", text).upper()


def new_key() -> str:
    return Fernet.generate_key().decode()


def attach(engine, keys: PiiKeys | None):
    engine.dialect.lps_pii = keys


def keys_of(dialect) -> PiiKeys:
    keys = getattr(dialect, "lps_pii", None)
    if keys is None:
        raise ConfigurationError("personal data needs lps.pii.keys and lps.pii.index_key in the settings")
    return keys


def phone_region_of(db) -> str:
    """The default phone region of the database session's installation (lps.phone.default_region)."""
    return keys_of(db.get_bind().dialect).phone_region


class EncryptedText(TypeDecorator):
    """Plain text in Python, Fernet ciphertext in the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else keys_of(dialect).encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else keys_of(dialect).decrypt(value)


class BlindIndex(TypeDecorator):
    """A keyed hash of a value: bind the plain value (to store it or to compare with it), the
    database sees only the hash. Reading it back gives the hash."""

    impl = String(64)
    cache_ok = True

    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def process_bind_param(self, value, dialect):
        return None if value is None else keys_of(dialect).index(self.kind, value)

    def process_result_value(self, value, dialect):
        return value
