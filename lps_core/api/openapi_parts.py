"""Building blocks of the OpenAPI document, shared by every feature's `openapi.py`."""

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_TEXT = {400: "Malformed input; `fields` names each bad field", 401: "Missing or invalid API key",
              403: "The key's outlet or scopes do not allow this", 404: "Not found",
              409: "Conflicts with what is recorded (replayed key with other content, over-refund, balance)",
              413: "Body larger than 64 KiB", 422: "Names a card or thing that cannot be used"}


def errors(*codes):
    """The error responses of an operation, each a JSON Error body."""
    return {str(code): {"description": ERROR_TEXT[code], "content": {"application/json": {"schema": ERROR}}}
            for code in codes}


def json_content(schema_name):
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def path_param(name, description, type_="string"):
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": type_}}


DECIMAL = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "example": "380.00",
           "description": "A decimal string with at most 2 decimal places (an exact JSON number is also accepted)"}
CARD_NO = path_param("card_no", "Card number with its Luhn check digit; spaces and dashes are ignored")
