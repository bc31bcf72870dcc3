import uuid

import pytest
from core.exceptions import NotFound

from rentals.selectors import rental_active, rental_get, rental_history, rental_invoice_key
from rentals.services import rental_finish, rental_start

pytestmark = pytest.mark.django_db


def _start(user_id, bike):
    return rental_start(user_id=user_id, user_email="a@example.com", user_name="A", bike_id=bike.id)


def test_history_ordering_is_newest_first(make_bike, tariff):
    user_id = uuid.uuid4()
    first = _start(user_id, make_bike())
    rental_finish(user_id=user_id, rental_id=first.id)
    second = _start(user_id, make_bike())
    queryset, ordering = rental_history(user_id=user_id)
    assert list(queryset.order_by(*ordering)) == [second, first]


def test_rental_visibility_is_per_rider(bike, tariff):
    owner = uuid.uuid4()
    rental = _start(owner, bike)
    assert rental_get(user_id=owner, rental_id=rental.id) == rental
    assert rental_active(user_id=owner) == rental
    with pytest.raises(NotFound):
        rental_get(user_id=uuid.uuid4(), rental_id=rental.id)
    with pytest.raises(NotFound):
        rental_invoice_key(user_id=owner, rental_id=rental.id)


def test_history_query_uses_the_rider_index(bike, tariff):
    from django.db import connection

    queryset, ordering = rental_history(user_id=uuid.uuid4())
    sql, params = queryset.order_by(*ordering)[:20].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "rental_rider_history_idx" in plan, plan
