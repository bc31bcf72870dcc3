"""Domain errors raised by services; the exception handler turns each into RFC 9457 problem+json."""

from typing import Any


class ApplicationError(Exception):
    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"
    default_detail: str = "The request could not be processed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        self.errors = errors
        self.headers = headers or {}
        super().__init__(self.detail)


class ValidationFailed(ApplicationError):
    status = 400
    slug = "validation-error"
    title = "Validation error"
    default_detail = "The request contains invalid fields."


class Conflict(ApplicationError):
    status = 409
    slug = "conflict"
    title = "Conflict"
    default_detail = "The request conflicts with the current state."


class NotFound(ApplicationError):
    status = 404
    slug = "not-found"
    title = "Not found"
    default_detail = "The resource does not exist."


class InvalidCredentials(ApplicationError):
    status = 401
    slug = "invalid-credentials"
    title = "Invalid credentials"
    default_detail = "Email or password is wrong."


class EmailNotVerified(ApplicationError):
    status = 403
    slug = "email-not-verified"
    title = "Email not verified"
    default_detail = "Confirm your email address before logging in."


class AccountDisabled(ApplicationError):
    status = 403
    slug = "account-disabled"
    title = "Account disabled"
    default_detail = "This account has been disabled."

    def __init__(self, detail: str | None = None, *, status: int = 403, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.status = status


class TokenInvalid(ApplicationError):
    status = 401
    slug = "token-invalid"
    title = "Invalid token"
    default_detail = "The token is invalid, expired or revoked."

    def __init__(self, detail: str | None = None, *, status: int = 401, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.status = status


class RateLimited(ApplicationError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"
    default_detail = "Too many attempts. Try again later."

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail, headers={"Retry-After": str(self.retry_after)})


class ServiceUnavailable(ApplicationError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"
    default_detail = "A dependency is unavailable."
