import uuid

import pytest
from core.exceptions import BikeOutOfService, Conflict, NotFound
from core.testing import race
from outbox.models import OutboxEvent
from rentals.services import rental_start
from reservations.services import reservation_create

from fleet.models import BikeConditionChange
from fleet.selectors import bike_page, station_get
from fleet.services import bike_condition_set

pytestmark = pytest.mark.django_db(transaction=False)
OPERATOR = uuid.uuid4()


def test_change_keeps_history_and_emits_event(bike):
    bike_condition_set(bike_id=bike.id, condition="broken", reason="Frame cracked", changed_by=OPERATOR)
    bike_condition_set(bike_id=bike.id, condition="in_repair", reason="In the workshop", changed_by=OPERATOR)
    bike.refresh_from_db()
    assert bike.condition == "in_repair"
    history = list(BikeConditionChange.objects.filter(bike=bike).order_by("created_at"))
    assert [(c.from_condition, c.to_condition, c.source) for c in history] == [
        ("ok", "broken", "operator"),
        ("broken", "in_repair", "operator"),
    ]
    events = [e.payload["data"] for e in OutboxEvent.objects.filter(event_type="bike.condition_changed")]
    assert [e["to_condition"] for e in events] == ["broken", "in_repair"]
    assert events[0]["changed_by"] == str(OPERATOR)


def test_same_condition_retired_and_unknown_bikes_are_refused(bike, make_bike):
    with pytest.raises(Conflict):
        bike_condition_set(bike_id=bike.id, condition="ok", reason="x", changed_by=OPERATOR)
    retired = make_bike(status="retired")
    with pytest.raises(Conflict):
        bike_condition_set(bike_id=retired.id, condition="broken", reason="x", changed_by=OPERATOR)
    with pytest.raises(NotFound):
        bike_condition_set(bike_id=uuid.uuid4(), condition="broken", reason="x", changed_by=OPERATOR)
    assert not BikeConditionChange.objects.exists()


@pytest.mark.parametrize("condition", ["needs_check", "broken", "in_repair", "missing"])
def test_a_bike_not_ok_is_not_rented_reserved_listed_or_counted(bike, station, tariff, condition):
    bike_condition_set(bike_id=bike.id, condition=condition, reason="x", changed_by=OPERATOR)
    with pytest.raises(BikeOutOfService):
        rental_start(user_id=uuid.uuid4(), user_email="a@example.com", user_name="A", bike_id=bike.id)
    with pytest.raises(BikeOutOfService):
        reservation_create(user_id=uuid.uuid4(), bike_id=bike.id)
    assert bike_page(limit=10) == []
    assert [row["id"] for row in bike_page(conditions=[condition], limit=10)] == [str(bike.id)]
    assert station_get(station_id=station.id).available_bikes == 0


def test_repair_puts_the_bike_back(bike, station, tariff):
    bike_condition_set(bike_id=bike.id, condition="in_repair", reason="x", changed_by=OPERATOR)
    bike_condition_set(bike_id=bike.id, condition="ok", reason="fixed", changed_by=OPERATOR)
    assert [row["id"] for row in bike_page(limit=10)] == [str(bike.id)]
    assert station_get(station_id=station.id).available_bikes == 1
    rental_start(user_id=uuid.uuid4(), user_email="a@example.com", user_name="A", bike_id=bike.id)


@pytest.mark.django_db(transaction=True)
def test_rent_and_condition_change_never_interleave(bike, tariff):
    """Both lock the bike row: either the rental wins (and the bike is then marked broken mid-trip) or the
    condition does (and the rent is refused) — never a rental that started on a bike already broken."""
    results = race(
        [
            lambda: rental_start(
                user_id=uuid.uuid4(), user_email="a@example.com", user_name="A", bike_id=bike.id
            ),
            lambda: bike_condition_set(bike_id=bike.id, condition="broken", reason="x", changed_by=OPERATOR),
        ]
    )
    change = BikeConditionChange.objects.get(bike=bike)
    rented = not isinstance(results[0], Exception)
    if rented:
        assert results[0].started_at <= change.created_at
    else:
        assert isinstance(results[0], BikeOutOfService)
