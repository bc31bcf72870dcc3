import uuid

import pytest
from rentals.models import Rental
from rentals.services import rental_apply_invoice, rental_finish, rental_start

from core import s3

pytestmark = pytest.mark.django_db


def test_presign_failure_is_503_problem(rider, rider_id, bike, tariff, settings):
    rental = rental_start(user_id=rider_id, user_email="a@example.com", user_name="A", bike_id=bike.id)
    rental_finish(user_id=rider_id, rental_id=rental.id)
    Rental.objects.filter(id=rental.id).update(duration_seconds=0)  # 0 s: the unlock fee, 100
    rental_apply_invoice(
        rental_id=rental.id,
        user_id=rider_id,
        invoice_id=uuid.uuid4(),
        amount=100,
        currency="EUR",
        s3_key=f"invoices/2026/11/{rental.id}.json",
    )
    settings.AWS_S3_PUBLIC_ENDPOINT_URL = "not a url"
    s3._client.cache_clear()
    try:
        response = rider.get(f"/api/rentals/{rental.id}/invoice")
    finally:
        s3._client.cache_clear()
    assert response.status_code == 503
    assert response.json()["type"].endswith("/service-unavailable")
