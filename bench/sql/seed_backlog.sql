-- A billing backlog: :count finished, unbilled rentals (duration_seconds = 900 marks them) of the registered bench riders (idx < :registered)
-- plus their rental.finished outbox rows (the relay publishes them; the envelope matches
-- contracts/events/rental.finished.v1.schema.json and rentals.services.rental_finished_event_data).
BEGIN;
CREATE TEMP TABLE backlog ON COMMIT DROP AS
WITH t AS (
    SELECT id, jsonb_build_object('id', id::text, 'name', name, 'unlock_fee', unlock_fee,
                                  'price_per_minute', price_per_minute, 'daily_cap', daily_cap,
                                  'currency', currency) AS snap
    FROM fleet_tariff WHERE is_active AND valid_from <= now()
    ORDER BY valid_from DESC, created_at DESC LIMIT 1
)
SELECT gen_random_uuid() AS id, gen_random_uuid() AS event_id, r.user_id, r.email, r.name, md5('bbk-' || (1 + n % 10000))::uuid AS bike_id,
       'BB' || lpad((1 + n % 10000)::text, 6, '0') AS bike_number,
       now() - interval '20 minutes' AS started_at, now() - interval '5 minutes' AS ended_at,
       900 AS duration_seconds, t.id AS tariff_id, t.snap
FROM generate_series(1, :count) AS n
JOIN bench.riders AS r ON r.idx = n % :registered
CROSS JOIN t;

INSERT INTO rentals_rental (id, user_id, user_email, user_name, bike_id, bike_number, status, started_at,
                            ended_at, duration_seconds, tariff_id, tariff_snapshot, cost_currency, invoice_s3_key)
SELECT id, user_id, email, name, bike_id, bike_number, 'finished', started_at, ended_at, duration_seconds,
       tariff_id, snap, '', ''
FROM backlog;

INSERT INTO outbox_outboxevent (event_id, event_type, exchange, payload, created_at, attempts, available_at)
SELECT b.event_id, 'rental.finished', 'rentals.events',
       jsonb_build_object(
           'event_id', b.event_id::text, 'event_type', 'rental.finished', 'version', 1,
           'occurred_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           'producer', 'rentals',
           'data', jsonb_build_object(
               'rental_id', b.id::text, 'user_id', b.user_id::text, 'user_email', b.email,
               'user_name', b.name, 'bike_id', b.bike_id::text, 'bike_number', b.bike_number,
               'started_at', to_char(b.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'ended_at', to_char(b.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'duration_seconds', b.duration_seconds, 'start_station_id', NULL, 'end_station_id', NULL,
               'tariff', b.snap)),
       now(), 0, now()
FROM backlog AS b;
COMMIT;
