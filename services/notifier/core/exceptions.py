"""Domain errors raised by services; the exception handler turns each into problem+json."""

from typing import Any


class ApplicationError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, Any] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        # RFC 9457 extension members of this problem type.
        self.extensions = extensions


class ValidationFailed(ApplicationError):
    status = 400
    slug = "validation-error"
    title = "Validation error"


class NotFound(ApplicationError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(ApplicationError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class InvalidSecret(ApplicationError):
    status = 401
    slug = "invalid-webhook-secret"
    title = "Invalid webhook secret"


class AccountDisabled(ApplicationError):
    status = 403
    slug = "account-disabled"
    title = "Account disabled"


class ServiceUnavailable(ApplicationError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"
