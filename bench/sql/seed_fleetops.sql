-- S6: :zones geofencing zones (17-position rings, one per station area, every other one no-parking) and
-- :alerts service alerts (each naming 3 stations), replacing earlier bench rows. Positions follow
-- seed_fleet.sql's station grid.
DELETE FROM zones_zone WHERE name LIKE 'Bench zone %';
DELETE FROM alerts_servicealert WHERE summary @> '[{"language": "en"}]' AND summary::text LIKE '%Bench alert%';

INSERT INTO zones_zone (id, name, geometry, ride_allowed, ride_through_allowed, parking_allowed,
                        maximum_speed_kph, min_lon, min_lat, max_lon, max_lat, created_at, updated_at)
SELECT md5('bzn-' || z)::uuid, 'Bench zone ' || lpad(z::text, 4, '0'),
       jsonb_build_object('type', 'MultiPolygon', 'coordinates', jsonb_build_array(jsonb_build_array(
         (SELECT jsonb_agg(jsonb_build_array(
                    round((c.lon + c.r * cos(2 * pi() * (k % 16) / 16))::numeric, 6),
                    round((c.lat + c.r * sin(2 * pi() * (k % 16) / 16))::numeric, 6)) ORDER BY k)
            FROM generate_series(0, 16) AS k)))),
       true, true, z % 2 = 1, CASE WHEN z % 3 = 0 THEN 15 END,
       c.lon - c.r, c.lat - c.r, c.lon + c.r, c.lat + c.r, now(), now()
FROM generate_series(0, :zones - 1) AS z,
     LATERAL (SELECT 52.40 + (z % 40) * 0.005 + 0.0025 AS lat, 13.20 + (z / 40) * 0.008 + 0.004 AS lon,
                     0.002 AS r) AS c;

INSERT INTO alerts_servicealert (id, alert_type, starts_at, ends_at, station_ids, summary, description, url,
                                 created_at, updated_at)
SELECT md5('bal-' || a)::uuid, (ARRAY['STATION_CLOSURE', 'STATION_MOVE', 'OTHER', 'SYSTEM_CLOSURE'])[a % 4 + 1],
       now() - interval '1 hour', now() + interval '1 day',
       ARRAY[md5('bst-' || (a * 3) % 1000)::uuid, md5('bst-' || (a * 3 + 1) % 1000)::uuid,
             md5('bst-' || (a * 3 + 2) % 1000)::uuid],
       jsonb_build_array(jsonb_build_object('text', 'Bench alert ' || a, 'language', 'en')),
       jsonb_build_array(jsonb_build_object('text', 'Works on the stations named here until tomorrow.',
                                            'language', 'en')),
       '[]'::jsonb, now(), now()
FROM generate_series(0, :alerts - 1) AS a;
ANALYZE zones_zone;
ANALYZE alerts_servicealert;
