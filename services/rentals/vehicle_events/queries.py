"""Hand-written SQL of the vehicle event log (STYLE.md, convention 9): one INSERT per state change, twice per
rent→finish cycle, where an ORM `create` costs several times the statement (BENCHMARKS.md, "MDS vehicle log").
The column list comes from the model (`core.rows`)."""

from core import rows
from django.db import connection

from vehicle_events.models import VehicleEvent

COLUMNS = rows.columns(VehicleEvent)
_INSERT = f"INSERT INTO {rows.table(VehicleEvent)} ({rows.column_list(VehicleEvent)}) VALUES "  # noqa: S608
_ROW = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"


def events_insert(*, events: list[dict]) -> int:
    """Append `events` (dicts keyed by the model's column names) in one statement; returns how many."""
    if not events:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT + ", ".join([_ROW] * len(events)), [event[name] for event in events for name in COLUMNS]
        )
    return len(events)
