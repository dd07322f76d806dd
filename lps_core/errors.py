"""Domain errors. Services raise them; the API answers each as an RFC 9457 problem naming the bad fields."""

PROBLEM_TYPE = "urn:lps:problem:"


class LpsError(Exception):
    status = 400
    code = "error"
    title = "The request failed"

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})

    def as_json(self):
        """An `application/problem+json` body: `code` and `fields` are LPS's extension members."""
        body = {"type": PROBLEM_TYPE + self.code, "title": self.title, "status": self.status,
                "detail": self.message, "code": self.code}
        if self.fields:
            body["fields"] = self.fields
        return body


class ValidationFailed(LpsError):
    """The input is malformed: a missing field, a bad number, a bad date."""

    status = 400
    code = "validation_failed"
    title = "Invalid input"


class Unprocessable(LpsError):
    """The input is well formed but names something that cannot be used (an unknown or inactive card)."""

    status = 422
    code = "unprocessable"
    title = "Cannot be used"


class Unauthorized(LpsError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class NotFound(LpsError):
    status = 404
    code = "not_found"
    title = "Not found"


class Forbidden(LpsError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class Conflict(LpsError):
    """The request clashes with what is already recorded (same business key, other content)."""

    status = 409
    code = "conflict"
    title = "Conflicts with what is recorded"


class InsufficientBalance(Conflict):
    code = "insufficient_balance"
    title = "Insufficient balance"


class MethodNotAllowed(LpsError):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class ServiceUnavailable(LpsError):
    """The database cannot be reached or did not answer in time; the client may retry later."""

    status = 503
    code = "service_unavailable"
    title = "Service unavailable"
    retry_after_seconds = 5


class ConfigurationError(Exception):
    """The installation is wrong (a missing plugin, bad outlet parameters): stops start-up."""
