"""Nothing that changes a bike's state may skip the log: every state-changing service is listed here,
each is shown to write exactly one event, and a scan of the code fails when a function that writes a
bike's status, condition or position appears without being listed."""

import ast
import datetime as dt
import re
import uuid
from pathlib import Path

import pytest
from django.db import connection
from fleet.models import Bike, BikeCondition, BikeStatus
from fleet.services import (
    bike_condition_set,
    bike_create,
    bike_retire,
    bike_update,
    station_update,
)
from problems.services import problem_report
from rentals.services import rental_finish, rental_start
from reservations import clock
from reservations.services import reservation_cancel, reservation_create, reservations_expire_due

from vehicle_events.models import VehicleEvent

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]

# Every function that writes fleet_bike's status, condition or position, and the scenario below that
# proves it writes one event per bike it changes.
STATE_CHANGING = {
    "fleet/services.py:station_update": "station_moved",
    "fleet/services.py:bike_create": "bike_created",
    "fleet/services.py:bike_update": "bike_status_changed",
    "fleet/services.py:bike_retire": "bike_retired",
    "fleet/services.py:bike_condition_change_locked": "condition_set",
    "rentals/services.py:rental_start": "rented",
    "rentals/services.py:rental_finish": "finished",
    "reservations/services.py:reservation_create": "reserved",
    "reservations/services.py:reservation_cancel": "released",
    "reservations/services.py:_expire_locked": "expired",
}

BIKE_WRITE = re.compile(
    r"UPDATE fleet_bike"
    r"|\bBIKE_(RENTED|RETURNED)"
    r"|\bbike\.(status|condition|lat|lon|station|station_id)\s*=[^=]"
    r"|setattr\(bike\b"
    r"|\bBike\.objects\b[^\n]*\.(update|create|get_or_create|update_or_create|bulk_create|bulk_update)\("
)


def _functions_writing_bikes() -> set[str]:
    found = set()
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if any(part in relative for part in (".venv", "/tests/", "migrations/", "conftest.py")):
            continue
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = ast.get_source_segment(source, node) or ""
                # Only the function's own lines, not those of functions nested in it.
                if BIKE_WRITE.search(body) and not node.name.startswith("test_"):
                    found.add(f"{relative}:{node.name}")
    return found


def test_every_function_writing_a_bike_is_listed():
    found = _functions_writing_bikes()
    unlisted = found - set(STATE_CHANGING)
    assert not unlisted, (
        f"{sorted(unlisted)} change a bike's state: make them call vehicle_events.services."
        "vehicle_event_record and add them (with a scenario) to STATE_CHANGING"
    )
    gone = set(STATE_CHANGING) - found
    assert not gone, f"{sorted(gone)} no longer write bikes: remove them from STATE_CHANGING"


def test_every_listed_service_calls_the_log():
    for name in STATE_CHANGING:
        path, function = name.split(":")
        source = (ROOT / path).read_text()
        node = next(
            n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == function
        )
        body = ast.get_source_segment(source, node)
        assert "vehicle_event" in body or "_record(" in body, name


def _events(bike_id=None) -> list[VehicleEvent]:
    queryset = VehicleEvent.objects.all()
    if bike_id is not None:
        queryset = queryset.filter(device_id=bike_id)
    return list(queryset.order_by("timestamp", "recorded_at"))


def _one_new_event(before: int, bike_id) -> VehicleEvent:
    events = _events()
    assert len(events) == before + 1, [(e.event_type, e.vehicle_state) for e in events[before:]]
    event = events[-1]
    assert event.device_id == bike_id
    return event


def _scenario_station_moved(ctx):
    bike = ctx["bike"]
    before = len(_events())
    station_update(station_id=bike.station_id, data={"lat": 52.5, "lon": 13.4})
    event = _one_new_event(before, bike.id)
    assert (event.event_type, event.vehicle_state) == ("located", "available")
    assert (event.lat, event.lon) == (52.5, 13.4)


def _scenario_bike_created(ctx):
    before = len(_events())
    bike = bike_create(number=f"N-{uuid.uuid4().hex[:6]}", model="M", station_id=ctx["station"].id)
    event = _one_new_event(before, bike.id)
    assert (event.event_type, event.vehicle_state) == ("provider_drop_off", "available")
    assert (event.lat, event.lon) == (ctx["station"].lat, ctx["station"].lon)


def _scenario_bike_status_changed(ctx):
    bike = ctx["bike"]
    before = len(_events())
    bike_update(bike_id=bike.id, data={"status": BikeStatus.MAINTENANCE})
    event = _one_new_event(before, bike.id)
    assert (event.event_type, event.vehicle_state) == ("maintenance", "non_operational")
    before += 1
    bike_update(bike_id=bike.id, data={"status": BikeStatus.AVAILABLE})
    event = _one_new_event(before, bike.id)
    assert (event.event_type, event.vehicle_state) == ("maintenance", "available")
    before += 1
    bike_update(bike_id=bike.id, data={"station_id": ctx["other_station"].id})
    event = _one_new_event(before, bike.id)
    assert (event.event_type, event.vehicle_state) == ("provider_drop_off", "available")
    assert (event.lat, event.lon) == (ctx["other_station"].lat, ctx["other_station"].lon)
    # An edit that neither moves the bike nor changes its state is no event.
    bike_update(bike_id=bike.id, data={"model": "Other"})
    assert len(_events()) == before + 1


def _scenario_bike_retired(ctx):
    bike = ctx["bike"]
    before = len(_events())
    bike_retire(bike_id=bike.id)
    event = _one_new_event(before, bike.id)
    assert (event.event_type, event.vehicle_state) == ("decommissioned", "removed")


def _scenario_condition_set(ctx):
    bike = ctx["bike"]
    expected = {
        BikeCondition.NEEDS_CHECK: ("maintenance", "non_operational"),
        BikeCondition.IN_REPAIR: ("maintenance_pick_up", "removed"),
        BikeCondition.MISSING: ("not_located", "missing"),
        BikeCondition.OK: ("maintenance", "available"),
    }
    for condition, types in expected.items():
        before = len(_events())
        bike_condition_set(bike_id=bike.id, condition=condition, reason="test", changed_by=None)
        event = _one_new_event(before, bike.id)
        assert (event.event_type, event.vehicle_state) == types
    # A rider's unsafe report goes through the same locked change.
    before = len(_events())
    problem_report(bike_id=bike.id, user_id=uuid.uuid4(), category="brakes")
    event = _one_new_event(before, bike.id)
    assert (event.event_type, event.vehicle_state) == ("maintenance", "non_operational")


def _rent(ctx):
    return rental_start(
        user_id=ctx["rider_id"], user_email="a@example.com", user_name="A", bike_id=ctx["bike"].id
    )


def _scenario_rented(ctx):
    before = len(_events())
    rental = _rent(ctx)
    event = _one_new_event(before, ctx["bike"].id)
    assert (event.event_type, event.vehicle_state, event.trip_id) == ("trip_start", "on_trip", rental.id)
    assert event.timestamp == rental.started_at


def _scenario_finished(ctx):
    rental = _rent(ctx)
    before = len(_events())
    rental_finish(user_id=ctx["rider_id"], rental_id=rental.id, station_id=ctx["other_station"].id)
    event = _one_new_event(before, ctx["bike"].id)
    assert (event.event_type, event.vehicle_state, event.trip_id) == ("trip_end", "available", rental.id)
    assert (event.lat, event.lon) == (ctx["other_station"].lat, ctx["other_station"].lon)
    # Finishing again changes nothing and writes nothing.
    rental_finish(user_id=ctx["rider_id"], rental_id=rental.id)
    assert len(_events()) == before + 1


def _scenario_reserved(ctx):
    before = len(_events())
    reservation_create(user_id=ctx["rider_id"], bike_id=ctx["bike"].id)
    event = _one_new_event(before, ctx["bike"].id)
    assert (event.event_type, event.vehicle_state) == ("reservation_start", "reserved")
    # Renting the reserved bike consumes the reservation: one trip_start, no second event.
    before += 1
    _rent(ctx)
    event = _one_new_event(before, ctx["bike"].id)
    assert event.event_type == "trip_start"


def _scenario_released(ctx):
    reservation_create(user_id=ctx["rider_id"], bike_id=ctx["bike"].id)
    before = len(_events())
    reservation_cancel(user_id=ctx["rider_id"], bike_id=ctx["bike"].id)
    event = _one_new_event(before, ctx["bike"].id)
    assert (event.event_type, event.vehicle_state) == ("reservation_cancel", "available")


def _scenario_expired(ctx, monkeypatch):
    reservation = reservation_create(user_id=ctx["rider_id"], bike_id=ctx["bike"].id)
    later = reservation.expires_at + dt.timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    before = len(_events())
    assert reservations_expire_due() == 1
    event = _one_new_event(before, ctx["bike"].id)
    assert (event.event_type, event.vehicle_state) == ("reservation_cancel", "available")
    assert event.timestamp == later


@pytest.fixture
def ctx(station, other_station, tariff, rider_id):
    bike = bike_create(number=f"C-{uuid.uuid4().hex[:6]}", model="M", station_id=station.id)
    return {
        "bike": Bike.objects.get(id=bike.id),
        "station": station,
        "other_station": other_station,
        "rider_id": rider_id,
    }


@pytest.mark.parametrize("scenario", sorted(set(STATE_CHANGING.values())))
def test_each_state_changing_service_writes_one_event(scenario, ctx, monkeypatch):
    function = globals()[f"_scenario_{scenario}"]
    if scenario == "expired":
        function(ctx, monkeypatch)
    else:
        function(ctx)


def test_the_log_refuses_update_and_delete(ctx):
    from django.db import DatabaseError, transaction

    event = _events(ctx["bike"].id)[-1]
    for statement in (
        "UPDATE vehicle_events_vehicleevent SET event_type = 'located' WHERE event_id = %s",
        "DELETE FROM vehicle_events_vehicleevent WHERE event_id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.event_id])
    assert VehicleEvent.objects.filter(event_id=event.event_id, event_type=event.event_type).exists()
