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

from fleet.models import Bike, BikeCondition, BikeConditionChange, BikeStatus, Station, Tariff


def bike_list_ordering(*, near: tuple[float, float] | None = None) -> list[str]:
    """The keyset order of `bike_page`: by number, or nearest first with `near`."""
    return ["number", "id"] if near is None else ["distance", "id"]


BIKE_COLUMNS = "id::text AS id, number, model, status, condition, station_id::text AS station_id, lat, lon"
# Nearest-first pages read this many rows past the page from the KNN index before ordering them (see
# `_bike_page_nearest`).
NEAREST_EXTRA_CANDIDATES = 32


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
    Hand-written SQL: this is the API's hottest read, and building the query through the ORM was half its
    CPU (BENCHMARKS.md, S1). `after` comes from a client's cursor: a value of the wrong type raises
    ValueError or TypeError before it reaches the database."""
    params: dict = {
        "statuses": list(statuses or [BikeStatus.AVAILABLE]),
        "conditions": list(conditions or [BikeCondition.OK]),
        "limit": limit,
    }
    where = ["status = ANY(%(statuses)s)", "condition = ANY(%(conditions)s)"]
    if station_id is not None:
        where.append("station_id = %(station_id)s::uuid")
        params["station_id"] = str(station_id)
    if near is not None:
        return _bike_page_nearest(near=near, where=where, params=params, after=after, reverse=reverse)
    if after is not None:
        after_number, after_id = after
        if not isinstance(after_number, str):
            raise TypeError("bike number must be a string")
        params.update(after_number=after_number, after_id=str(uuid.UUID(str(after_id))))
        # The plain bound on the first column gives PostgreSQL an index range, as in core.pagination.
        where.append(
            f"(number, id) {'<' if reverse else '>'} (%(after_number)s, %(after_id)s::uuid)"
            f" AND number {'<=' if reverse else '>='} %(after_number)s"
        )
    direction = "DESC" if reverse else "ASC"
    # Every fragment is a constant of this module; values go in as parameters. `fleet_bike.id` in ORDER BY:
    # a bare `id` would name the text output column and sort by text.
    return _rows(
        f"SELECT {BIKE_COLUMNS} FROM fleet_bike WHERE {' AND '.join(where)}"  # noqa: S608
        f" ORDER BY number {direction}, fleet_bike.id {direction} LIMIT %(limit)s",
        params,
    )


def _bike_page_nearest(
    *, near: tuple[float, float], where: list[str], params: dict, after: list | None, reverse: bool
) -> list[dict]:
    """`bike_page` nearest first, through the GiST index on `fleet_bike.unit_vector` (migration fleet 0004).

    - Next pages: the index hands rows out nearest first (KNN), but PostgreSQL cannot add the id tie-break
      to that order, so a few rows past the page are read by distance alone and put in (distance, id)
      order here. That is the page unless its last row is as far as the farthest row read: then ties (bikes
      docked at one station share its position) may go on past the rows read, and the page is taken from
      every row within that distance instead. The KNN scan starts at the nearest bike for every page.
    - Previous pages: every row before the cursor lies within the cursor's distance.
    """
    distance = "unit_vector <-> fleet_unit_vector(%(lat)s, %(lon)s)"
    params.update(lat=float(near[0]), lon=float(near[1]))
    where.append("unit_vector IS NOT NULL")
    if after is not None:
        after_distance, after_id = after
        if isinstance(after_distance, bool) or not isinstance(after_distance, int | float):
            raise TypeError("distance must be a number")
        if not math.isfinite(after_distance):  # JSON cursors can spell NaN and Infinity
            raise ValueError("distance must be finite")
        params.update(after_distance=float(after_distance), after_id=str(uuid.UUID(str(after_id))))
        where.append(f"({distance}, id) {'<' if reverse else '>'} (%(after_distance)s, %(after_id)s::uuid)")
    select = f"SELECT {BIKE_COLUMNS}, {distance} AS distance FROM fleet_bike WHERE {' AND '.join(where)}"  # noqa: S608

    def within(bound: float, direction: str) -> list[dict]:
        """The page among the rows at most `bound` away: the box that holds that ball is an index condition
        (a hair wider, so that rounding never leaves out a row at the bound), and few rows are in it."""
        params.update(bound=bound, box=bound * (1 + 1e-9) + 1e-12)
        return _rows(
            f"{select} AND unit_vector <@ cube_enlarge(fleet_unit_vector(%(lat)s, %(lon)s), %(box)s, 3)"
            f" AND {distance} <= %(bound)s ORDER BY distance {direction}, fleet_bike.id {direction}"
            " LIMIT %(limit)s",
            params,
        )

    if reverse and after is not None:
        return within(params["after_distance"], "DESC")
    limit = params["limit"]
    params["candidates"] = limit + NEAREST_EXTRA_CANDIDATES
    rows = _rows(f"{select} ORDER BY distance LIMIT %(candidates)s", params)
    rows.sort(key=lambda row: (row["distance"], row["id"]))  # ids as text sort as the uuids do
    if len(rows) < params["candidates"] or rows[limit - 1]["distance"] < rows[-1]["distance"]:
        return rows[:limit]
    return within(rows[-1]["distance"], "ASC")


def _rows(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


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
    """The active tariff with the latest `valid_from` that is not in the future (ties: newest created)."""
    moment = at or timezone.now()
    return (
        Tariff.objects.filter(is_active=True, valid_from__lte=moment)
        .order_by("-valid_from", "-created_at")
        .first()
    )
