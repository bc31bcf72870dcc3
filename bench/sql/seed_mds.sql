-- Scenario 8 (MDS at scale, issue 25): :trips finished, billed trips and :events vehicle events in the :days
-- days from :'start', over bikes 1..:nbikes and the riders of bench.riders. Each trip has its trip_start and
-- trip_end events (2 × :trips); the rest are reservations, rebalancing drop-offs and maintenance, spread
-- evenly. Ids are deterministic, so a second run adds nothing (the log is append-only: nothing is deleted).
-- Run by bench/velo_bench/s8.py, followed by ANALYZE.
WITH t AS (
    SELECT id, jsonb_build_object('id', id::text, 'name', name, 'unlock_fee', unlock_fee,
                                  'price_per_minute', price_per_minute, 'daily_cap', daily_cap,
                                  'currency', currency) AS snap
    FROM fleet_tariff WHERE is_active AND valid_from <= now()
    ORDER BY valid_from DESC, created_at DESC LIMIT 1
)
INSERT INTO rentals_rental (id, user_id, user_email, user_name, bike_id, bike_number, status, started_at,
                            ended_at, duration_seconds, start_station_id, end_station_id, tariff_id,
                            tariff_snapshot, cost_amount, cost_currency, invoice_id, invoice_s3_key, billed_at)
SELECT md5('bmt-' || n)::uuid, r.user_id, r.email, r.name, md5('bbk-' || x.b)::uuid,
       'BB' || lpad(x.b::text, 6, '0'), 'finished', x.ended - interval '12 minutes', x.ended, 720,
       md5('bst-' || (x.b % 1000))::uuid, md5('bst-' || ((x.b + 7) % 1000))::uuid, t.id, t.snap,
       100 + 12 * 25, 'EUR', md5('bmi-' || n)::uuid,
       'invoices/' || to_char(x.ended, 'YYYY/MM') || '/' || md5('bmt-' || n)::uuid || '.json',
       x.ended + interval '2 seconds'
FROM generate_series(1, :trips) AS n
CROSS JOIN LATERAL (SELECT 1 + ((n::bigint * 7919) % :nbikes)::int AS b,
                           timestamptz :'start' + n * (:days * interval '1 day' / :trips) AS ended) AS x
JOIN bench.riders AS r ON r.idx = n % 1000
CROSS JOIN t
ON CONFLICT (id) DO NOTHING;

INSERT INTO vehicle_events_vehicleevent (event_id, device_id, event_type, vehicle_state, "timestamp", lat, lon,
                                         trip_id, recorded_at)
SELECT md5('bme-' || e.kind || '-' || n)::uuid, md5('bbk-' || x.b)::uuid, e.kind, e.state,
       e.at, 52.45 + (x.b % 100) * 0.002, 13.30 + (x.b % 97) * 0.003, md5('bmt-' || n)::uuid, e.at
FROM generate_series(1, :trips) AS n
CROSS JOIN LATERAL (SELECT 1 + ((n::bigint * 7919) % :nbikes)::int AS b,
                           timestamptz :'start' + n * (:days * interval '1 day' / :trips) AS ended) AS x
CROSS JOIN LATERAL (VALUES ('trip_start', 'on_trip', x.ended - interval '12 minutes'),
                           ('trip_end', 'available', x.ended)) AS e (kind, state, at)
ON CONFLICT (event_id) DO NOTHING;

INSERT INTO vehicle_events_vehicleevent (event_id, device_id, event_type, vehicle_state, "timestamp", lat, lon,
                                         trip_id, recorded_at)
SELECT md5('bme-other-' || n)::uuid, md5('bbk-' || (1 + (n::bigint * 104729) % :nbikes))::uuid,
       k.kind, k.state, x.at, 52.45 + (n % 100) * 0.002, 13.30 + (n % 97) * 0.003, NULL, x.at
FROM generate_series(1, :events - 2 * :trips) AS n
CROSS JOIN LATERAL (SELECT timestamptz :'start' + n * (:days * interval '1 day' / (:events - 2 * :trips)) AS at) AS x
CROSS JOIN LATERAL (SELECT (ARRAY['reservation_start', 'reservation_cancel', 'provider_drop_off', 'maintenance'])[1 + n % 4] AS kind,
                           (ARRAY['reserved', 'available', 'available', 'non_operational'])[1 + n % 4] AS state) AS k
ON CONFLICT (event_id) DO NOTHING;
