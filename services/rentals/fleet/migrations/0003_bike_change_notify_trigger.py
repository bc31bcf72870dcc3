from django.db import migrations

# Every committed statement that changes fleet_bike (rent, finish, reservations, operator edits, SQL seeds,
# TRUNCATE) sends NOTIFY fleet_bike_changed, so each web process's bike-list page cache
# (fleet/page_cache.py) drops its pages as soon as the change is visible. Statement level: a batch update
# sends one notification, and duplicates within a transaction are folded into one; delivered only on commit.
CREATE = """
CREATE OR REPLACE FUNCTION fleet_bike_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fleet_bike_changed', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER fleet_bike_changed_notify
    AFTER INSERT OR UPDATE OR DELETE ON fleet_bike
    FOR EACH STATEMENT EXECUTE FUNCTION fleet_bike_changed_notify();
CREATE TRIGGER fleet_bike_truncated_notify
    AFTER TRUNCATE ON fleet_bike
    FOR EACH STATEMENT EXECUTE FUNCTION fleet_bike_changed_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS fleet_bike_truncated_notify ON fleet_bike;
DROP TRIGGER IF EXISTS fleet_bike_changed_notify ON fleet_bike;
DROP FUNCTION IF EXISTS fleet_bike_changed_notify();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0002_bike_last_rental_id"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
