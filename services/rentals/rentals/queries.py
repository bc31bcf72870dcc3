"""Hand-written SQL of the rent and finish paths (STYLE.md, convention 9).

Compiling the ~10 ORM statements of a rent or a finish was most of their CPU (BENCHMARKS.md, S2 and issue
21's per-path table), so `rentals.services` sends these instead. The rules and the locks are the ORM
version's: the bike row (rent) or the rental row then the bike row (finish), plus the partial unique
indexes. Column lists come from the models (`core.rows`); the UPDATEs name only the columns they change.
"""

import datetime as dt
import uuid
from typing import NamedTuple

from core import rows
from fleet.queries import TARIFF_SNAPSHOT_IN_FORCE

from rentals.models import Rental

# Under the bike's row lock, the rider's debt, the rider's active rental and the snapshot of the tariff in
# force at the rental's start, in one round trip.
RENT_CHECK = f"""
SELECT b.number, b.status, b.station_id, b.condition, b.lat, b.lon,
       EXISTS (SELECT 1 FROM wallets_wallet w WHERE w.user_id = %(user)s AND w.balance < 0) AS in_debt,
       EXISTS (SELECT 1 FROM rentals_rental r WHERE r.user_id = %(user)s AND r.status = 'active')
         AS has_active,
       ({TARIFF_SNAPSHOT_IN_FORCE}) AS tariff_snapshot
  FROM fleet_bike b
 WHERE b.id = %(bike)s
   FOR UPDATE OF b
"""  # noqa: S608 (fragments of this service)
ACTIVE_RENTAL_EXISTS = "SELECT EXISTS (SELECT 1 FROM rentals_rental WHERE user_id = %s AND status = 'active')"
RENTAL_INSERT = rows.insert_statement(Rental)
BIKE_RENTED = "UPDATE fleet_bike SET status = 'rented', station_id = NULL, updated_at = %s WHERE id = %s"

RENTAL_COLUMNS = rows.columns(Rental)
# The rental under its row lock, the return station if one was named and is active, and whether a problem
# was reported during the rental (which waives the unlock fee).
FINISH_LOCK = f"""
SELECT {rows.column_list(Rental, alias="r")}, s.id, s.lat, s.lon,
       EXISTS (SELECT 1 FROM problems_problemreport p WHERE p.rental_id = r.id)
  FROM rentals_rental r
  LEFT JOIN fleet_station s ON s.id = %(station)s AND s.is_active
 WHERE r.id = %(rental)s AND r.user_id = %(user)s
   FOR UPDATE OF r
"""  # noqa: S608 (names from the model)
RENTAL_FINISHED = """
UPDATE rentals_rental SET status = 'finished', ended_at = %s, duration_seconds = %s, end_station_id = %s,
       unlock_fee_waived = %s
 WHERE id = %s
"""
# The three ways a bike comes back; each returns the bike's position and condition for the vehicle log.
BIKE_RETURNED_AT_STATION = """
UPDATE fleet_bike SET status = 'available', station_id = %s, lat = %s, lon = %s, last_rental_id = %s,
       updated_at = %s
 WHERE id = %s
RETURNING lat, lon, condition
"""
BIKE_RETURNED_ELSEWHERE = """
UPDATE fleet_bike SET status = 'available', station_id = NULL, last_rental_id = %s, updated_at = %s
 WHERE id = %s
RETURNING lat, lon, condition
"""
BIKE_RETURNED_AT_POSITION = """
UPDATE fleet_bike SET status = 'available', station_id = NULL, lat = %s, lon = %s, last_rental_id = %s,
       updated_at = %s
 WHERE id = %s
RETURNING lat, lon, condition
"""
BIKE_POSITION = "SELECT lat, lon FROM fleet_bike WHERE id = %s"
# The invoice applied to a finished, unbilled rental of this rider; RETURNING gives what the amount is
# checked against. Matches nothing when the rental is unknown, someone else's, unfinished or billed.
INVOICE_APPLY = """
UPDATE rentals_rental SET cost_amount = %s, cost_currency = %s, invoice_id = %s, invoice_s3_key = %s,
       billed_at = %s
 WHERE id = %s AND user_id = %s AND status = 'finished' AND invoice_id IS NULL
RETURNING tariff_snapshot, duration_seconds, unlock_fee_waived
"""


class FinishLock(NamedTuple):
    rental: Rental
    station_id: uuid.UUID | None  # the named return station, if it exists and is active
    station_lat: float | None
    station_lon: float | None
    problem_reported: bool


def rent_check(*, cursor, user_id: uuid.UUID, bike_id: uuid.UUID, now: dt.datetime):
    """RENT_CHECK's row by column name (the bike locked), or None for an unknown bike."""
    cursor.execute(RENT_CHECK, {"user": user_id, "now": now, "bike": bike_id})
    return rows.fetch_named(cursor)


def rental_locked(
    *, cursor, rental_id: uuid.UUID, user_id: uuid.UUID, station_id: uuid.UUID | None
) -> FinishLock | None:
    """The rider's rental under its row lock (FINISH_LOCK), or None."""
    cursor.execute(FINISH_LOCK, {"station": station_id, "rental": rental_id, "user": user_id})
    row = cursor.fetchone()
    if row is None:
        return None
    width = len(RENTAL_COLUMNS)
    return FinishLock(rows.instance_from_row(Rental, RENTAL_COLUMNS, row[:width]), *row[width:])


def invoice_apply(
    *,
    cursor,
    rental_id: uuid.UUID,
    user_id: uuid.UUID,
    amount: int,
    currency: str,
    invoice_id: uuid.UUID,
    s3_key: str,
    billed_at: dt.datetime,
):
    """INVOICE_APPLY's returned row by column name, or None when it matched no rental."""
    cursor.execute(INVOICE_APPLY, [amount, currency, invoice_id, s3_key, billed_at, rental_id, user_id])
    return rows.fetch_named(cursor)


def rental_insert(*, cursor, rental: Rental) -> Rental:
    cursor.execute(RENTAL_INSERT, rows.insert_params(rental))
    return rows.mark_saved(rental)
