from django.db import migrations

# The bike-change trigger sent NOTIFY inside every transaction that changed a bike, and PostgreSQL holds a
# database-wide lock from a notifying transaction's pre-commit through its commit: rents and finishes
# committed one at a time. Bike-list pages now live for at most BIKE_LIST_MAX_AGE_SECONDS, and web
# processes announce their writers after the commit instead (fleet/page_cache.py).
# Reversing recreates the trigger exactly as 0003 made it.
DROP = """
DROP TRIGGER IF EXISTS fleet_bike_truncated_notify ON fleet_bike;
DROP TRIGGER IF EXISTS fleet_bike_changed_notify ON fleet_bike;
DROP FUNCTION IF EXISTS fleet_bike_changed_notify();
"""


def _recreate():
    from importlib import import_module

    return import_module("fleet.migrations.0003_bike_change_notify_trigger").CREATE


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0005_bike_condition"),
    ]

    operations = [migrations.RunSQL(DROP, _recreate())]
