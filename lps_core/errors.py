"""Domain errors. Services raise them; the API turns each into a JSON answer naming the bad fields."""


class LpsError(Exception):
    status = 400
    code = "error"

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})

    def as_json(self):
        body = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


class ValidationFailed(LpsError):
    """The input is malformed: a missing field, a bad number, a bad date."""

    status = 400
    code = "validation_failed"


class Unprocessable(LpsError):
    """The input is well formed but names something that cannot be used (an unknown or inactive card)."""

    status = 422
    code = "unprocessable"


class Unauthorized(LpsError):
    status = 401
    code = "unauthorized"


class NotFound(LpsError):
    status = 404
    code = "not_found"


class Forbidden(LpsError):
    status = 403
    code = "forbidden"


class Conflict(LpsError):
    """The request clashes with what is already recorded (same business key, other content)."""

    status = 409
    code = "conflict"


class InsufficientBalance(Conflict):
    code = "insufficient_balance"


class ConfigurationError(Exception):
    """The installation is wrong (a missing plugin, bad outlet parameters): stops start-up."""
