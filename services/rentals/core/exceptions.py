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
        # RFC 9457 extension members of this problem type (e.g. `nearest_station`).
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


class BikeUnavailable(Conflict):
    slug = "bike-unavailable"
    title = "Bike not available"


class BikeOutOfService(Conflict):
    """The bike's condition is not `ok` (needs a check, broken, in repair or missing)."""

    slug = "bike-out-of-service"
    title = "Bike out of service"


class ParkingNotAllowed(Conflict):
    slug = "parking-not-allowed"
    title = "Parking not allowed here"


class ActiveRentalExists(Conflict):
    slug = "active-rental-exists"
    title = "Active rental exists"


class PaymentRequired(ApplicationError):
    status = 402
    slug = "payment-required"
    title = "Payment required"


class IdempotencyKeyReused(ApplicationError):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


class InvalidSignature(ApplicationError):
    status = 401
    slug = "invalid-signature"
    title = "Invalid signature"


class AccountDisabled(ApplicationError):
    status = 403
    slug = "account-disabled"
    title = "Account disabled"


class ServiceUnavailable(ApplicationError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"
