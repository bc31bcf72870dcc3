-- The database's ceiling for scenario 2: one rent -> finish cycle as the rentals service issues it
-- (rentals.services.rental_start / rental_finish: same statements, locks, outbox insert and the NOTIFY its
-- trigger sends on commit, on a channel nobody listens to),
-- without HTTP, Python or Django. Run by bench/run.sh:
--   pgbench -n -f rent_finish.sql -D slice=N -D stations=1000 -c C -j 2 -T SECONDS "$RENTALS_DATABASE_URL"
-- Each client is its own rider (md5('pgb-rider-'||client_id)) and uses its own slice of the 10 000 bikes,
-- so no two clients race for one bike. Outbox rows are written already published (the relay must not
-- ship them) and carry producer "bench-pgbench"; run.sh deletes the rows this script wrote afterwards.
\set b :client_id * :slice + random(1, :slice)
\set seq random(1, 4000000000000000)
\set st random(0, :stations - 1)
BEGIN;
SELECT 1 AS a FROM wallets_wallet WHERE balance < 0 AND user_id = md5('pgb-rider-' || :client_id)::uuid LIMIT 1;
SELECT id, number, model, status, station_id, lat, lon, created_at, updated_at FROM fleet_bike
  WHERE id = md5('bbk-' || :b)::uuid ORDER BY id LIMIT 1 FOR UPDATE;
SELECT 1 AS a FROM rentals_rental WHERE status = 'active' AND user_id = md5('pgb-rider-' || :client_id)::uuid LIMIT 1;
SELECT id, name, unlock_fee, price_per_minute, daily_cap, currency, is_active, valid_from, created_at, updated_at
  FROM fleet_tariff WHERE is_active AND valid_from <= now() ORDER BY valid_from DESC, created_at DESC LIMIT 1;
INSERT INTO rentals_rental (id, user_id, user_email, user_name, bike_id, bike_number, status, started_at,
                            start_station_id, tariff_id, tariff_snapshot, cost_currency, invoice_s3_key)
SELECT md5('pgbr-' || :seq)::uuid, md5('pgb-rider-' || :client_id)::uuid, 'pgbench@velo.bench', 'pgbench rider',
       b.id, b.number, 'active', now(), b.station_id, t.id,
       jsonb_build_object('id', t.id::text, 'name', t.name, 'unlock_fee', t.unlock_fee,
                          'price_per_minute', t.price_per_minute, 'daily_cap', t.daily_cap, 'currency', t.currency),
       '', ''
FROM fleet_bike b, (SELECT * FROM fleet_tariff WHERE is_active ORDER BY valid_from DESC LIMIT 1) t
WHERE b.id = md5('bbk-' || :b)::uuid;
UPDATE fleet_bike SET status = 'rented', station_id = NULL, updated_at = now() WHERE id = md5('bbk-' || :b)::uuid;
INSERT INTO outbox_outboxevent (event_id, event_type, exchange, payload, created_at, published_at, attempts, available_at)
VALUES (gen_random_uuid(), 'rental.started', 'rentals.events',
        '{"event_id":"00000000-0000-4000-8000-000000000000","event_type":"rental.started","version":1,"occurred_at":"2026-11-23T12:00:00.000000Z","producer":"bench-pgbench","data":{"rental_id":"00000000-0000-4000-8000-000000000001","user_id":"00000000-0000-4000-8000-000000000002","bike_id":"00000000-0000-4000-8000-000000000003","bike_number":"BB000001","started_at":"2026-11-23T12:00:00.000000Z","start_station_id":"00000000-0000-4000-8000-000000000004","tariff":{"id":"00000000-0000-4000-8000-000000000005","name":"Standard","unlock_fee":100,"price_per_minute":25,"daily_cap":2000,"currency":"EUR"}}}'::jsonb,
        now(), now(), 0, now());
SELECT pg_notify('outbox_event_pgbench', '');
COMMIT;
BEGIN;
SELECT id, user_id, user_email, user_name, bike_id, bike_number, status, started_at, ended_at, duration_seconds,
       start_station_id, end_station_id, tariff_id, tariff_snapshot, cost_amount, cost_currency, invoice_id,
       invoice_s3_key, billed_at
  FROM rentals_rental WHERE id = md5('pgbr-' || :seq)::uuid AND user_id = md5('pgb-rider-' || :client_id)::uuid
  ORDER BY id LIMIT 1 FOR UPDATE;
SELECT id, name, lat, lon, capacity, is_active FROM fleet_station
  WHERE id = md5('bst-' || :st)::uuid AND is_active ORDER BY id LIMIT 1;
SELECT id, number, model, status, station_id, lat, lon, created_at, updated_at FROM fleet_bike
  WHERE id = md5('bbk-' || :b)::uuid LIMIT 21 FOR UPDATE;
UPDATE rentals_rental SET status = 'finished', ended_at = now(), duration_seconds = 0,
       end_station_id = md5('bst-' || :st)::uuid
  WHERE id = md5('pgbr-' || :seq)::uuid;
UPDATE fleet_bike SET status = 'available', station_id = md5('bst-' || :st)::uuid, lat = 52.5, lon = 13.4,
       last_rental_id = md5('pgbr-' || :seq)::uuid, updated_at = now()
  WHERE id = md5('bbk-' || :b)::uuid;
INSERT INTO outbox_outboxevent (event_id, event_type, exchange, payload, created_at, published_at, attempts, available_at)
VALUES (gen_random_uuid(), 'rental.finished', 'rentals.events',
        '{"event_id":"00000000-0000-4000-8000-000000000000","event_type":"rental.finished","version":1,"occurred_at":"2026-11-23T12:00:00.000000Z","producer":"bench-pgbench","data":{"rental_id":"00000000-0000-4000-8000-000000000001","user_id":"00000000-0000-4000-8000-000000000002","user_email":"pgbench@velo.bench","user_name":"pgbench rider","bike_id":"00000000-0000-4000-8000-000000000003","bike_number":"BB000001","started_at":"2026-11-23T12:00:00.000000Z","ended_at":"2026-11-23T12:00:00.000000Z","duration_seconds":0,"start_station_id":null,"end_station_id":null,"tariff":{"id":"00000000-0000-4000-8000-000000000005","name":"Standard","unlock_fee":100,"price_per_minute":25,"daily_cap":2000,"currency":"EUR"}}}'::jsonb,
        now(), now(), 0, now());
SELECT pg_notify('outbox_event_pgbench', '');
COMMIT;
