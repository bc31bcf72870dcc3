import uuid

from core.exceptions import NotFound
from django.db.models import QuerySet

from rentals.models import Rental, RentalStatus


def rental_history(*, user_id: uuid.UUID) -> tuple[QuerySet[Rental], list[str]]:
    """The rider's rentals newest first (served by rental_rider_history_idx)."""
    return Rental.objects.filter(user_id=user_id), ["-started_at", "-id"]


def rental_active(*, user_id: uuid.UUID) -> Rental:
    rental = Rental.objects.filter(user_id=user_id, status=RentalStatus.ACTIVE).first()
    if rental is None:
        raise NotFound("No active rental.")
    return rental


def rental_get(*, user_id: uuid.UUID, rental_id: uuid.UUID) -> Rental:
    """Another rider's rental is indistinguishable from a missing one."""
    rental = Rental.objects.filter(id=rental_id, user_id=user_id).first()
    if rental is None:
        raise NotFound("Rental not found.")
    return rental


def rental_invoice_key(*, user_id: uuid.UUID, rental_id: uuid.UUID) -> str:
    rental = rental_get(user_id=user_id, rental_id=rental_id)
    if not rental.invoice_s3_key:
        raise NotFound("The rental has no invoice yet.")
    return rental.invoice_s3_key
