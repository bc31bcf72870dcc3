from django.db import migrations

# Nearest-first bike lists (`GET /api/bikes?lat=&lon=`) through a GiST index instead of sorting the whole
# fleet (137 ms at 100 000 bikes; BENCHMARKS.md, S4). Each located bike keeps its position as a point on
# the unit sphere (the `cube` contrib extension, trusted since PostgreSQL 13, so the database owner can
# create it). The straight-line distance between two such points orders bikes exactly as the great-circle
# distance does, and `<->` on a GiST-indexed cube is a KNN ordering the index serves nearest first.
# - `fleet_unit_vector` has an SQL-standard body (PostgreSQL 14+): it is bound when created, so it does not
#   depend on the search_path of whoever evaluates it (pg_restore, REINDEX).
# - A stored generated column: computed once per write instead of once per row read, and kept by
#   PostgreSQL itself on every insert or update of lat/lon, whoever writes. Adding it rewrites fleet_bike
#   under an exclusive lock (about 5 s at 100 000 bikes on the 2-core bench machine).
# - Not a model field: only `fleet.selectors.bike_page` reads it.
CREATE = """
CREATE EXTENSION IF NOT EXISTS cube;
CREATE FUNCTION fleet_unit_vector(lat double precision, lon double precision) RETURNS cube
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN cube(ARRAY[
        cos(radians(lat)) * cos(radians(lon)), cos(radians(lat)) * sin(radians(lon)), sin(radians(lat))
    ]);
ALTER TABLE fleet_bike ADD COLUMN unit_vector cube GENERATED ALWAYS AS (fleet_unit_vector(lat, lon)) STORED;
CREATE INDEX fleet_bike_unit_vector_idx ON fleet_bike USING gist (unit_vector);
"""
# The extension stays: other objects of the database may use it by then.
DROP = """
DROP INDEX IF EXISTS fleet_bike_unit_vector_idx;
ALTER TABLE fleet_bike DROP COLUMN IF EXISTS unit_vector;
DROP FUNCTION IF EXISTS fleet_unit_vector(double precision, double precision);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0003_bike_change_notify_trigger"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
