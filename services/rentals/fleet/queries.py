"""Hand-written SQL of the fleet app (STYLE.md, convention 9): the bike-list pages and the tariff in force.

The bike list is the API's hottest read and the tariff in force is read under the bike's lock on every rent
(`rentals.queries.RENT_CHECK` embeds `TARIFF_SNAPSHOT_IN_FORCE`), so both are statements here rather than
querysets; `fleet.selectors` is what the rest of the service calls.
"""

import datetime as dt
import math
import uuid

from core import rows
from django.db import connection

from fleet.models import Tariff

# The tariff in force at %(now)s: the active tariff with the latest `valid_from` not after it (ties: newest
# created), through `tariff_in_force_idx`. The one statement of this rule; `tariff_in_force` and the rent
# path both read it.
TARIFF_IN_FORCE = """
  FROM fleet_tariff t
 WHERE t.is_active AND t.valid_from <= %(now)s
 ORDER BY t.valid_from DESC, t.created_at DESC
 LIMIT 1"""
TARIFF_ROW_IN_FORCE = f"SELECT {rows.column_list(Tariff, alias='t')} {TARIFF_IN_FORCE}"
# The tariff in force as the JSON snapshot a rental keeps (`Tariff.snapshot()`'s fields and values).
TARIFF_SNAPSHOT_IN_FORCE = "SELECT json_build_object({}) {}".format(
    ", ".join(f"'{name}', t.{connection.ops.quote_name(name)}" for name in Tariff.SNAPSHOT_FIELDS),
    TARIFF_IN_FORCE,
)
_TARIFF_COLUMNS = rows.columns(Tariff)


def tariff_in_force(*, at: dt.datetime) -> Tariff | None:
    with connection.cursor() as cursor:
        cursor.execute(TARIFF_ROW_IN_FORCE, {"now": at})
        row = cursor.fetchone()
    return None if row is None else rows.instance_from_row(Tariff, _TARIFF_COLUMNS, row)


BIKE_COLUMNS = "id::text AS id, number, model, status, condition, station_id::text AS station_id, lat, lon"
# Nearest-first pages read this many rows past the page from the KNN index before ordering them (see
# `_bike_rows_nearest`).
NEAREST_EXTRA_CANDIDATES = 32


def bike_page_rows(
    *,
    statuses: list[str],
    conditions: list[str],
    station_id: uuid.UUID | None,
    near: tuple[float, float] | None,
    after: list | None,
    reverse: bool,
    limit: int,
) -> list[dict]:
    """`fleet.selectors.bike_page`'s statement: by (number, id), or nearest first with `near`."""
    params: dict = {"statuses": statuses, "conditions": conditions, "limit": limit}
    where = ["status = ANY(%(statuses)s)", "condition = ANY(%(conditions)s)"]
    if station_id is not None:
        where.append("station_id = %(station_id)s::uuid")
        params["station_id"] = str(station_id)
    if near is not None:
        return _bike_rows_nearest(near=near, where=where, params=params, after=after, reverse=reverse)
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
    return _dicts(
        f"SELECT {BIKE_COLUMNS} FROM fleet_bike WHERE {' AND '.join(where)}"  # noqa: S608
        f" ORDER BY number {direction}, fleet_bike.id {direction} LIMIT %(limit)s",
        params,
    )


def _bike_rows_nearest(
    *, near: tuple[float, float], where: list[str], params: dict, after: list | None, reverse: bool
) -> list[dict]:
    """`bike_page_rows` nearest first, through the GiST index on `fleet_bike.unit_vector` (fleet 0004).

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
        return _dicts(
            f"{select} AND unit_vector <@ cube_enlarge(fleet_unit_vector(%(lat)s, %(lon)s), %(box)s, 3)"
            f" AND {distance} <= %(bound)s ORDER BY distance {direction}, fleet_bike.id {direction}"
            " LIMIT %(limit)s",
            params,
        )

    if reverse and after is not None:
        return within(params["after_distance"], "DESC")
    limit = params["limit"]
    params["candidates"] = limit + NEAREST_EXTRA_CANDIDATES
    found = _dicts(f"{select} ORDER BY distance LIMIT %(candidates)s", params)
    found.sort(key=lambda row: (row["distance"], row["id"]))  # ids as text sort as the uuids do
    if len(found) < params["candidates"] or found[limit - 1]["distance"] < found[-1]["distance"]:
        return found[:limit]
    return within(found[-1]["distance"], "ASC")


def _dicts(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
