import datetime as dt
import math
import uuid

from core.exceptions import NotFound
from django.db import connection
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from fleet.models import Bike, BikeStatus, Station, Tariff


def bike_list_ordering(*, near: tuple[float, float] | None = None) -> list[str]:
    """The keyset order of `bike_page`: by number, or nearest first with `near`."""
    return ["number", "id"] if near is None else ["distance", "id"]


def bike_page(
    *,
    statuses: list[str] | None = None,
    station_id: uuid.UUID | None = None,
    near: tuple[float, float] | None = None,
    after: list | None = None,
    reverse: bool = False,
    limit: int,
) -> list[dict]:
    """A page of bikes (available ones unless `statuses` says otherwise) in `bike_list_ordering`, after
    (before, when `reverse`) the key `after`, as dicts with ids as text (and `distance` with `near`:
    equirectangular, fine at city scale). Hand-written SQL: this is the API's hottest read, and building
    the query through the ORM was half its CPU (BENCHMARKS.md, S1). `after` comes from a client's cursor:
    a value of the wrong type raises ValueError or TypeError before it reaches the database."""
    params: dict = {"statuses": list(statuses or [BikeStatus.AVAILABLE]), "limit": limit}
    where = ["status = ANY(%(statuses)s)"]
    if station_id is not None:
        where.append("station_id = %(station_id)s::uuid")
        params["station_id"] = str(station_id)
    if near is None:
        key, extra = "number", ""
    else:
        lat, lon = near
        k = math.cos(math.radians(lat))
        key = "((lat - %(lat)s) * (lat - %(lat)s) + (lon - %(lon)s) * (lon - %(lon)s) * %(kk)s)"
        extra = f", {key} AS distance"
        params.update(lat=float(lat), lon=float(lon), kk=k * k)
        where.append("lat IS NOT NULL AND lon IS NOT NULL")
    if after is not None:
        after_key, after_id = after
        if near is None and not isinstance(after_key, str):
            raise TypeError("bike number must be a string")
        if near is not None and (isinstance(after_key, bool) or not isinstance(after_key, int | float)):
            raise TypeError("distance must be a number")
        params.update(after_key=after_key, after_id=str(uuid.UUID(str(after_id))))
        # The plain bound on the first column gives PostgreSQL an index range, as in core.pagination.
        where.append(
            f"({key}, id) {'<' if reverse else '>'} (%(after_key)s, %(after_id)s::uuid)"
            f" AND {key} {'<=' if reverse else '>='} %(after_key)s"
        )
    direction = "DESC" if reverse else "ASC"
    # Every fragment is a constant of this function; values go in as parameters. `fleet_bike.id` in ORDER BY:
    # a bare `id` would name the text output column and sort by text.
    sql = (
        "SELECT id::text AS id, number, model, status, station_id::text AS station_id, lat, lon"  # noqa: S608
        f"{extra} FROM fleet_bike WHERE {' AND '.join(where)}"
        f" ORDER BY {key} {direction}, fleet_bike.id {direction} LIMIT %(limit)s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def bike_get(*, bike_id: uuid.UUID) -> Bike:
    try:
        return Bike.objects.get(id=bike_id)
    except Bike.DoesNotExist:
        raise NotFound("Bike not found.")


def _station_bike_count(bikes: QuerySet[Bike]) -> Coalesce:
    """Bikes of `bikes` at the outer station, counted per station row through `bike_station_status_idx`
    (a join + aggregate would count the whole fleet before the page is cut)."""
    counted = bikes.filter(station=OuterRef("pk")).order_by().values("station").annotate(n=Count("*"))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def _stations() -> QuerySet[Station]:
    return Station.objects.annotate(
        available_bikes=_station_bike_count(Bike.objects.filter(status=BikeStatus.AVAILABLE)),
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
    """The active tariff with the latest `valid_from` that is not in the future (ties: newest created)."""
    moment = at or timezone.now()
    return (
        Tariff.objects.filter(is_active=True, valid_from__lte=moment)
        .order_by("-valid_from", "-created_at")
        .first()
    )
