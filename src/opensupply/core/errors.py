"""Domain errors: a code, a user-facing (translated) message and optionally the field at fault.

The API turns them into `{"error": {"code", "message", "field"}}` with the status below;
pages show them as form errors. Anything a user can cause must raise one of these, never a 500.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class RetryLater(DomainError):
    """Raised after a bounded number of serialization/deadlock retries."""

    status = 503
    code = "busy"
