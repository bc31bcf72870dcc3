import datetime as dt
import uuid

from core.exceptions import NotFound
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from fleet import queries
from fleet.models import Bike, BikeCondition, BikeConditionChange, BikeStatus, Station, Tariff


def bike_list_ordering(*, near: tuple[float, float] | None = None) -> list[str]:
    """The keyset order of `bike_page`: by number, or nearest first with `near`."""
    return ["number", "id"] if near is None else ["distance", "id"]


def bike_page(
    *,
    statuses: list[str] | None = None,
    conditions: list[str] | None = None,
    station_id: uuid.UUID | None = None,
    near: tuple[float, float] | None = None,
    after: list | None = None,
    reverse: bool = False,
    limit: int,
) -> list[dict]:
    """A page of bikes (available ones in condition `ok` unless `statuses` / `conditions` say otherwise)
    in `bike_list_ordering`, after (before, when `reverse`) the key `after`, as dicts with ids as text (and
    `distance` with `near`: the straight-line distance between points on the unit sphere, in the order of
    the great-circle distance).
    Hand-written SQL (`fleet.queries`): this is the API's hottest read, and building the query through the
    ORM was half its CPU (BENCHMARKS.md, S1). `after` comes from a client's cursor: a value of the wrong
    type raises ValueError or TypeError before it reaches the database."""
    return queries.bike_page_rows(
        statuses=list(statuses or [BikeStatus.AVAILABLE]),
        conditions=list(conditions or [BikeCondition.OK]),
        station_id=station_id,
        near=near,
        after=after,
        reverse=reverse,
        limit=limit,
    )


def bike_get(*, bike_id: uuid.UUID) -> Bike:
    try:
        return Bike.objects.get(id=bike_id)
    except Bike.DoesNotExist:
        raise NotFound("Bike not found.")


def bike_condition_history(*, bike_id: uuid.UUID) -> tuple[Bike, list[BikeConditionChange]]:
    """The bike and its condition changes, newest first."""
    bike = bike_get(bike_id=bike_id)
    return bike, list(BikeConditionChange.objects.filter(bike=bike).order_by("-created_at", "-id"))


def _station_bike_count(bikes: QuerySet[Bike]) -> Coalesce:
    """Bikes of `bikes` at the outer station, counted per station row through `bike_station_status_idx`
    (a join + aggregate would count the whole fleet before the page is cut)."""
    counted = bikes.filter(station=OuterRef("pk")).order_by().values("station").annotate(n=Count("*"))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def _stations() -> QuerySet[Station]:
    return Station.objects.annotate(
        available_bikes=_station_bike_count(
            Bike.objects.filter(status=BikeStatus.AVAILABLE, condition=BikeCondition.OK)
        ),
        docked_bikes=_station_bike_count(Bike.objects.exclude(status=BikeStatus.RETIRED)),
    )


def station_list(*, include_inactive: bool = False) -> tuple[QuerySet[Station], list[str]]:
    queryset = _stations()
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset, ["name", "id"]


def station_get(*, station_id: uuid.UUID) -> Station:
    try:
        return _stations().get(id=station_id)
    except Station.DoesNotExist:
        raise NotFound("Station not found.")


def tariff_list(*, include_inactive: bool = False) -> tuple[QuerySet[Tariff], list[str]]:
    queryset = Tariff.objects.all()
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset, ["name", "id"]


def tariff_get(*, tariff_id: uuid.UUID) -> Tariff:
    try:
        return Tariff.objects.get(id=tariff_id)
    except Tariff.DoesNotExist:
        raise NotFound("Tariff not found.")


def tariff_in_force(*, at: dt.datetime | None = None) -> Tariff | None:
    """The active tariff with the latest `valid_from` that is not in the future (ties: newest created).
    The rule is `fleet.queries.TARIFF_IN_FORCE`, which the rent path reads in the same statement."""
    return queries.tariff_in_force(at=at or timezone.now())
