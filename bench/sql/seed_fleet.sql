-- Stations 0..:stations-1 (idempotent) and bikes :bike_from..:bike_to, all available at a station.
-- Deterministic ids: station n = md5('bst-'||n)::uuid, bike n = md5('bbk-'||n)::uuid.
INSERT INTO fleet_station (id, name, lat, lon, capacity, is_active, created_at, updated_at)
SELECT md5('bst-' || s)::uuid, 'Bench Station ' || lpad(s::text, 4, '0'),
       52.40 + (s % 40) * 0.005, 13.20 + (s / 40) * 0.008, 120, true, now(), now()
FROM generate_series(0, :stations - 1) AS s
ON CONFLICT (id) DO NOTHING;

INSERT INTO fleet_bike (id, number, model, status, station_id, lat, lon, created_at, updated_at)
SELECT md5('bbk-' || n)::uuid, 'BB' || lpad(n::text, 6, '0'), 'Bench City', 'available',
       md5('bst-' || (n % :stations))::uuid,
       52.40 + ((n % :stations) % 40) * 0.005, 13.20 + ((n % :stations) / 40) * 0.008, now(), now()
FROM generate_series(:bike_from, :bike_to) AS n
ON CONFLICT (id) DO NOTHING;
