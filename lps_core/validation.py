"""The field types every input schema is built from, and the translation of their failures.

One pydantic model per input (API body, query string, staff form) validates it and, through
`model_json_schema`, describes it in the OpenAPI document, so the two cannot drift. Each type below
checks the text before converting anything (a money string of a million digits is refused by its
length, never multiplied), and states its rule in its JSON schema in a form that both Python's `re`
and ECMAScript read the same way (`[0-9]`, never `\\d`, which matches full-width digits in Python).

Failures become `ValidationFailed` (400) with one message per field, named by its path
(`tenders[0].amount`), in the words staff and integrators read: "must be a string", "is required".
A value the document allows but LPS cannot use (see `unusable`) makes it `Unprocessable` (422).
"""
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from lps_core.errors import Unprocessable, ValidationFailed

MONEY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
MONEY_DIGITS = 12
# White space as ECMAScript's \s defines it, spelled out: Python's \s and str.strip() also take
# \x1c-\x1f and \x85, which a JSON Schema validator would count as text. A text field has no NUL
# anywhere and at least one character that is not white space.
WHITESPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
             "\u2028\u2029\u202f\u205f\u3000\ufeff"
_SPACE_CLASS = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
TEXT_PATTERN = rf"^[^\x00]*[^\x00{_SPACE_CLASS}][^\x00]*$"
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
CONFIG_YEARS_AHEAD = 10
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_JSON_DEPTH = 32

_MONEY = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?\Z")
_MONEY_MESSAGE = 'must be a decimal string such as "123.45": digits, then optionally a point and 1 or 2 digits'


def invalid(message: str):
    """A field's failure in the words of `message` ("must be a string"): 400 naming the field."""
    return PydanticCustomError("lps", message)


def unusable(message: str):
    """A well-formed value outside what the document can state exactly (a date more than ten years
    ahead, an amount of 0, a quantity over the maximum): `validate` answers a body whose only faults
    are these with 422, naming each field by its path; 400 is kept for input that does not match the
    document."""
    return PydanticCustomError("lps_unusable", message)


def _money_validator(*, positive: bool):
    def to_cents(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, str):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                raise invalid('must be a decimal string such as "12.50", not a JSON number')
            raise invalid(_MONEY_MESSAGE)
        if len(value) > MONEY_DIGITS + 3 or not _MONEY.match(value):
            raise invalid(_money_mistake(value, positive))
        whole, _, fraction = value.partition(".")
        cents = int(whole) * 100 + int(fraction.ljust(2, "0") or "0")
        if positive and cents == 0:
            raise unusable("must be greater than 0")
        return cents
    return to_cents


def _money_mistake(text: str, positive: bool) -> str:
    """What is wrong with a money string, said precisely (the text is never converted)."""
    if text != text.strip():
        return "must not have spaces around it"
    if text.startswith("-"):
        return "must be greater than 0" if positive else "must not be negative"
    if text.startswith("+"):
        return "must not carry a sign"
    if "e" in text.lower() and not text.lower().startswith(("n", "i")):
        return "must not use an exponent"
    if "_" in text or "," in text:
        return "must not contain separators such as '_' or ','"
    if any(char.isdigit() and not char.isascii() for char in text):
        return "must use the digits 0 to 9"
    whole, point, fraction = text.partition(".")
    if point and not whole:
        return "must have a digit before the point"
    if point and not fraction:
        return "must have 1 or 2 digits after the point"
    if whole.isascii() and whole.isdigit() and (not point or fraction.isascii() and fraction.isdigit()):
        if len(fraction) > 2:
            return "must have at most 2 decimal places"
        if len(whole) > MONEY_DIGITS:
            return f"must have at most {MONEY_DIGITS} digits before the point"
    return _MONEY_MESSAGE


def _money_schema(pattern, description):
    return {"type": "string", "pattern": pattern, "maxLength": MONEY_DIGITS + 3, "example": "380.00",
            "description": description}


# Money enters as a decimal string and is handed to the services as integer cents.
Money = Annotated[int, PlainValidator(_money_validator(positive=True)),
                  WithJsonSchema(_money_schema(MONEY_PATTERN, "An amount greater than 0 (0 is refused with 422), as "
                                                              "a decimal string with at most 2 decimals"))]
MoneyOrZero = Annotated[int, PlainValidator(_money_validator(positive=False)),
                        WithJsonSchema(_money_schema(MONEY_PATTERN, "An amount (0 allowed), as a decimal string "
                                                                    "with at most 2 decimals"))]


def _check_text(value: Any, max_length: int) -> str:
    if not isinstance(value, str):
        raise invalid("must be a string")
    if len(value) > max_length:
        raise invalid(f"must be at most {max_length} characters")
    if "\x00" in value:
        raise invalid("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid("must be valid Unicode text (it holds a lone surrogate)") from None
    stripped = value.strip(WHITESPACE)
    if not stripped:
        raise invalid("must not be empty")
    return stripped


def Text(max_length: int, *, description: str | None = None, example: str | None = None):  # noqa: N802 (a type)
    """A trimmed, non-empty string of at most `max_length` characters: the length of its column."""
    schema = {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": TEXT_PATTERN}
    if description:
        schema["description"] = description
    if example:
        schema["example"] = example
    return Annotated[str, PlainValidator(lambda value: _check_text(value, max_length)), WithJsonSchema(schema)]


_EMAIL_PATTERN = rf"^[^@\x00{_SPACE_CLASS}]{{1,64}}@[^@\x00.{_SPACE_CLASS}]+(\.[^@\x00.{_SPACE_CLASS}]+)+$"
_EMAIL = re.compile(_EMAIL_PATTERN)


def _check_email(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("must be a string")
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise invalid("must be an e-mail address such as li.wei@example.com")
    return value.lower()


Email = Annotated[str, PlainValidator(_check_email), WithJsonSchema({
    "type": "string", "maxLength": 254, "pattern": _EMAIL_PATTERN, "example": "li.wei@example.com"})]


def Code(max_length: int = 32, *, description: str | None = None):  # noqa: N802 (a type)
    """An identifier staff type (outlet, tier, card type, promotion code): letters, digits, - and _."""
    pattern = rf"^[A-Za-z0-9_-]{{1,{max_length}}}$"
    compiled = re.compile(rf"[A-Za-z0-9_-]{{1,{max_length}}}\Z")

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise invalid("must be a string")
        if not compiled.match(value):
            raise invalid(f"must be 1 to {max_length} letters, digits, '-' or '_'")
        return value
    schema = {"type": "string", "pattern": pattern, "maxLength": max_length}
    if description:
        schema["description"] = description
    return Annotated[str, PlainValidator(check), WithJsonSchema(schema)]


def Int(minimum: int, maximum: int, *, description: str | None = None):  # noqa: N802 (a type)
    """A whole number within its column's range; true/false and decimal strings are refused."""
    def check(value: Any, info) -> int:
        strict = (info.config or {}).get("strict", False)
        if not strict and isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value):
            value = int(value)  # query strings and forms carry numbers as text; JSON bodies do not
        elif isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            value = int(value)  # JSON Schema counts 3.0 as an integer, so the API does too
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid("must be a whole number")
        if not minimum <= value <= maximum:
            raise invalid(f"must be a whole number from {minimum} to {maximum}")
        return value
    schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    if description:
        schema["description"] = description
    return Annotated[int, PlainValidator(check), WithJsonSchema(schema)]


_QUANTITY = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,3})?\Z")
MAX_QUANTITY = 100_000


def _check_quantity(value: Any) -> Decimal:
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MAX_QUANTITY:
        value = int(value)  # JSON Schema counts 2.0 as an integer
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _QUANTITY.match(value):
        raise invalid('must be a whole number or a decimal string such as "1.5" (at most 3 decimals)')
    quantity = Decimal(value)
    if not 0 < quantity <= MAX_QUANTITY:
        raise unusable(f"must be greater than 0 and at most {MAX_QUANTITY}")
    return quantity


# A line's quantity (nights, portions, kilos): a JSON integer or a decimal string, never a float.
Quantity = Annotated[Decimal, PlainValidator(_check_quantity), WithJsonSchema({"anyOf": [
    {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
    {"type": "string", "pattern": r"^[0-9]{1,6}(\.[0-9]{1,3})?$", "example": "1.5"}]})]


def _timestamp_validator(*, not_after):
    def check(value: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise invalid("must be an ISO 8601 date-time such as 2026-05-01T19:30:00+08:00")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise invalid("must be an ISO 8601 date-time such as 2026-05-01T19:30:00+08:00") from None
        if parsed.tzinfo is None:
            raise invalid("must include a time-zone offset, such as +08:00 or Z")
        latest = not_after()
        try:
            parsed = parsed.astimezone(timezone.utc)
        except OverflowError:  # year 9999 behind UTC, year 1 ahead of it: outside any window
            parsed = None
        if parsed is None or parsed < EARLIEST or parsed > latest:
            raise unusable(f"must lie between {EARLIEST.date().isoformat()} and "
                           f"{latest.isoformat(timespec='seconds')}")
        return parsed
    return check


def _config_horizon() -> datetime:
    now = datetime.now(timezone.utc)
    return now.replace(year=now.year + CONFIG_YEARS_AHEAD) if not (now.month == 2 and now.day == 29) \
        else now + timedelta(days=365 * CONFIG_YEARS_AHEAD)


# RFC 3339's date-time, which the format names, always carries an offset; a pattern saying so again
# would make generators of valid examples discard most of what they make.
_TIMESTAMP_SCHEMA = {"type": "string", "format": "date-time", "example": "2026-05-01T19:30:00+08:00"}
# When something happened at a till: with an offset, and not in the future beyond a clock skew. How far
# back it may lie is a setting, checked by the service (422), since it differs per installation.
FUTURE_SKEW = timedelta(minutes=5)
PostingTime = Annotated[datetime, PlainValidator(_timestamp_validator(
    not_after=lambda: datetime.now(timezone.utc) + FUTURE_SKEW)),
    WithJsonSchema({**_TIMESTAMP_SCHEMA, "description": "With a time-zone offset; not in the future"})]
# A date-time in configuration (a promotion's end, a rule's start): 2000-01-01 to ten years ahead.
ConfigTime = Annotated[datetime, PlainValidator(_timestamp_validator(not_after=_config_horizon)),
                       WithJsonSchema({**_TIMESTAMP_SCHEMA, "description": "With a time-zone offset; "
                                                                           "from 2000 to ten years ahead"})]


def latest_today() -> date:
    """Today's date where it is latest on Earth (UTC+14). A validator does not know the programme's
    time zone, and the server's own date would refuse the programme's today while it is already
    tomorrow there (in Shanghai, every evening after 16:00 UTC)."""
    return (datetime.now(timezone.utc) + timedelta(hours=14)).date()


def _check_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise invalid("must be a date such as 1990-05-17")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise invalid("must be a real calendar date such as 1990-05-17") from None
    if parsed.year < 1900 or parsed > latest_today():
        raise unusable("must lie between 1900-01-01 and today")
    return parsed


# A date in the past (a birthday): 1900-01-01 to today.
PastDate = Annotated[date, PlainValidator(_check_date),
                     WithJsonSchema({"type": "string", "format": "date", "example": "1990-05-17"})]


# A row id in a path or a query: the range of the id column (PostgreSQL integer).
Id = Int(1, INT32_MAX, description="An id")


class Body(BaseModel):
    """Base of every JSON body: unknown fields are refused, and JSON types are taken as they are."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    def given(self, clearable=frozenset()) -> dict:
        """The fields a change names, as given. `null` clears a field in `clearable` and means "left
        out" for the others, so a change can empty an optional value but never a required one."""
        return {name: getattr(self, name) for name in self.model_fields_set
                if getattr(self, name) is not None or name in clearable}


class Query(BaseModel):
    """Base of query strings and staff forms: every value arrives as text."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True, populate_by_name=True)


class LenientQuery(Query):
    """A query string or form that may carry fields of no interest (cache busters, a CSRF token)."""

    model_config = ConfigDict(extra="ignore", strict=False, frozen=True, populate_by_name=True)


# -- translating failures ------------------------------------------------------------------------

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "json_type": "must be JSON",
}


def field_name(loc) -> str:
    """`("tenders", 0, "amount")` as `tenders[0].amount`."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def _message(error) -> str:
    kind = error["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    ctx = error.get("ctx") or {}
    if kind in ("literal_error", "enum"):
        return "must be one of: " + ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item{'s' if ctx.get('min_length') != 1 else ''}"
    if kind.startswith("lps") or kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    return error["msg"][:1].lower() + error["msg"][1:]


def failure(exc: ValidationError, message: str) -> ValidationFailed | Unprocessable:
    """400 naming every bad field; 422 when the only faults are values the document allows but LPS
    cannot use (see `unusable`)."""
    errors = exc.errors(include_url=False, include_input=False)
    fields = {}
    for error in errors:
        fields.setdefault(field_name(error["loc"]), _message(error))
    if all(error["type"] == "lps_unusable" for error in errors):
        return Unprocessable("the request cannot be used as it is", fields)
    return ValidationFailed(message, fields)


def validate(model: type[BaseModel], data, *, message="the request has invalid fields"):
    """`data` (a dict) checked against `model`; every bad field is named at once."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise failure(exc, message) from None


def unprocessable(field: str, message: str) -> Unprocessable:
    """A well-formed body whose fields do not agree (the items add up to more than the amount): 422."""
    return Unprocessable(f"{field} {message}", {field: message})


def validate_json(model: type[BaseModel], raw: bytes, *, message="the request has invalid fields"):
    """The JSON text `raw` checked against `model`, parsed once (strictly: "12" is not a number)."""
    check_depth(raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise ValidationFailed("the body is not valid JSON", {"body": f"is not valid JSON: {errors[0]['msg']}"}) \
                from None
        if errors and errors[0]["type"] == "model_type" and not errors[0]["loc"]:
            raise ValidationFailed("the body must be a JSON object", {"body": "must be a JSON object"}) from None
        raise failure(exc, message) from None


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def check_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuses JSON nested deeper than `limit` before anything parses it recursively."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return  # cannot nest deeper than it opens (3.4 to 0.2 µs for a bill)
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                raise ValidationFailed(f"the body is nested deeper than {limit} levels",
                                       {"body": f"must not nest deeper than {limit} levels"})
        else:
            depth -= 1


__all__ = ["Body", "Code", "ConfigTime", "Email", "Field", "Id", "Int", "LenientQuery", "Money", "MoneyOrZero",
           "invalid",
           "PastDate", "PostingTime", "Quantity", "Query", "Text", "check_depth", "failure", "validate",
           "validate_json"]
