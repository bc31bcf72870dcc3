-- The database's ceiling for scenario 2: one rent -> finish cycle with the statements the rentals service
-- sends (rentals.services.rental_start / rental_finish, the rider check of riders.selectors and
-- outbox.services.outbox_emit), without HTTP, Python or Django. Run by bench/run.sh:
--   pgbench -n -f rent_finish.sql -D slice=N -D stations=1000 -D notify_inside=0 -D notify_after=1 -D vehicle_log=1 \
--           -c C -j 2 -T S "$RENTALS_DATABASE_URL"
-- Each client is its own rider (md5('pgb-rider-'||client_id)) and uses its own slice of the 10 000 bikes,
-- so no two clients race for one bike. Outbox rows are written already published (the relay must not
-- ship them) and carry producer "bench-pgbench"; the bench deletes the rows this script wrote afterwards.
-- notify_inside=1: the outbox trigger's NOTIFY inside the transaction as before (the rows written here are
-- already published, so the real trigger stays quiet); the bike trigger, where still installed, fires itself.
-- notify_after=1: after each commit, the two NOTIFY statements the service sends then, each in autocommit
-- (core.notify: outbox_event, and fleet_bike_changed with the rider from the page cache), on channels
-- nobody listens to here. notify_after=0 with the old
-- insert triggers in place measures the previous design (NOTIFY inside the transaction).
-- vehicle_log=1: each transaction also appends its MDS vehicle event (vehicle_events.services.vehicle_event_record:
-- one INSERT of a row built in Python), as the service does; vehicle_log=0 measures the cycle without the log
-- (scenario 8 compares the two). The events stay: the log is append-only.
\set b :client_id * :slice + random(1, :slice)
\set seq random(1, 4000000000000000)
\set st random(0, :stations - 1)
SELECT EXISTS (SELECT 1 FROM riders_rider WHERE user_id = md5('pgb-rider-' || :client_id)::uuid AND is_deactivated);
BEGIN;
SELECT b.number, b.status, b.station_id,
       EXISTS (SELECT 1 FROM wallets_wallet w WHERE w.user_id = md5('pgb-rider-' || :client_id)::uuid AND w.balance < 0),
       EXISTS (SELECT 1 FROM rentals_rental r WHERE r.user_id = md5('pgb-rider-' || :client_id)::uuid AND r.status = 'active'),
       (SELECT json_build_object(
                   'id', t.id, 'name', t.name, 'unlock_fee', t.unlock_fee,
                   'price_per_minute', t.price_per_minute, 'daily_cap', t.daily_cap, 'currency', t.currency)
          FROM fleet_tariff t
         WHERE t.is_active AND t.valid_from <= now()
         ORDER BY t.valid_from DESC, t.created_at DESC
         LIMIT 1)
  FROM fleet_bike b
 WHERE b.id = md5('bbk-' || :b)::uuid
   FOR UPDATE OF b;
INSERT INTO rentals_rental (id, user_id, user_email, user_name, bike_number, status, started_at, ended_at,
                            duration_seconds, tariff_snapshot, cost_amount, cost_currency, invoice_id,
                            invoice_s3_key, billed_at, bike_id, end_station_id, start_station_id, tariff_id)
SELECT md5('pgbr-' || :seq)::uuid, md5('pgb-rider-' || :client_id)::uuid, 'pgbench@velo.bench', 'pgbench rider',
       b.number, 'active', now(), NULL, NULL,
       jsonb_build_object('id', t.id::text, 'name', t.name, 'unlock_fee', t.unlock_fee,
                          'price_per_minute', t.price_per_minute, 'daily_cap', t.daily_cap, 'currency', t.currency),
       NULL, '', NULL, '', NULL, b.id, NULL, b.station_id, t.id
FROM fleet_bike b, (SELECT * FROM fleet_tariff WHERE is_active ORDER BY valid_from DESC LIMIT 1) t
WHERE b.id = md5('bbk-' || :b)::uuid;
UPDATE fleet_bike SET status = 'rented', station_id = NULL, updated_at = now() WHERE id = md5('bbk-' || :b)::uuid;
INSERT INTO outbox_outboxevent (event_id, event_type, exchange, payload, created_at, published_at, attempts, available_at)
VALUES (gen_random_uuid(), 'rental.started', 'rentals.events',
        '{"event_id":"00000000-0000-4000-8000-000000000000","event_type":"rental.started","version":1,"occurred_at":"2026-11-23T12:00:00.000000Z","producer":"bench-pgbench","data":{"rental_id":"00000000-0000-4000-8000-000000000001","user_id":"00000000-0000-4000-8000-000000000002","bike_id":"00000000-0000-4000-8000-000000000003","bike_number":"BB000001","started_at":"2026-11-23T12:00:00.000000Z","start_station_id":"00000000-0000-4000-8000-000000000004","tariff":{"id":"00000000-0000-4000-8000-000000000005","name":"Standard","unlock_fee":100,"price_per_minute":25,"daily_cap":2000,"currency":"EUR"}}}'::jsonb,
        now(), now(), 0, now())
RETURNING id;
\if :vehicle_log
INSERT INTO vehicle_events_vehicleevent (event_id, device_id, event_type, vehicle_state, "timestamp", lat, lon,
                                         trip_id, recorded_at)
VALUES (gen_random_uuid(), md5('bbk-' || :b)::uuid, 'trip_start', 'on_trip', now(), 52.5, 13.4,
        md5('pgbr-' || :seq)::uuid, now());
\endif
\if :notify_inside
SELECT pg_notify('outbox_event_pgbench', '');
\endif
COMMIT;
\if :notify_after
SELECT pg_notify('outbox_event_pgbench', '');
SELECT pg_notify('fleet_bike_changed_pgbench', md5('pgb-rider-' || :client_id));
\endif
SELECT EXISTS (SELECT 1 FROM riders_rider WHERE user_id = md5('pgb-rider-' || :client_id)::uuid AND is_deactivated);
BEGIN;
SELECT r.id, r.user_id, r.user_email, r.user_name, r.bike_number, r.status, r.started_at, r.ended_at,
       r.duration_seconds, r.tariff_snapshot, r.cost_amount, r.cost_currency, r.invoice_id, r.invoice_s3_key,
       r.billed_at, r.bike_id, r.end_station_id, r.start_station_id, r.tariff_id, s.id, s.lat, s.lon
  FROM rentals_rental r
  LEFT JOIN fleet_station s ON s.id = md5('bst-' || :st)::uuid AND s.is_active
 WHERE r.id = md5('pgbr-' || :seq)::uuid AND r.user_id = md5('pgb-rider-' || :client_id)::uuid
   FOR UPDATE OF r;
UPDATE rentals_rental SET status = 'finished', ended_at = now(), duration_seconds = 0,
       end_station_id = md5('bst-' || :st)::uuid
 WHERE id = md5('pgbr-' || :seq)::uuid;
UPDATE fleet_bike SET status = 'available', station_id = md5('bst-' || :st)::uuid, lat = 52.5, lon = 13.4,
       last_rental_id = md5('pgbr-' || :seq)::uuid, updated_at = now()
 WHERE id = md5('bbk-' || :b)::uuid;
INSERT INTO outbox_outboxevent (event_id, event_type, exchange, payload, created_at, published_at, attempts, available_at)
VALUES (gen_random_uuid(), 'rental.finished', 'rentals.events',
        '{"event_id":"00000000-0000-4000-8000-000000000000","event_type":"rental.finished","version":1,"occurred_at":"2026-11-23T12:00:00.000000Z","producer":"bench-pgbench","data":{"rental_id":"00000000-0000-4000-8000-000000000001","user_id":"00000000-0000-4000-8000-000000000002","user_email":"pgbench@velo.bench","user_name":"pgbench rider","bike_id":"00000000-0000-4000-8000-000000000003","bike_number":"BB000001","started_at":"2026-11-23T12:00:00.000000Z","ended_at":"2026-11-23T12:00:00.000000Z","duration_seconds":0,"start_station_id":null,"end_station_id":null,"tariff":{"id":"00000000-0000-4000-8000-000000000005","name":"Standard","unlock_fee":100,"price_per_minute":25,"daily_cap":2000,"currency":"EUR"}}}'::jsonb,
        now(), now(), 0, now())
RETURNING id;
\if :vehicle_log
INSERT INTO vehicle_events_vehicleevent (event_id, device_id, event_type, vehicle_state, "timestamp", lat, lon,
                                         trip_id, recorded_at)
VALUES (gen_random_uuid(), md5('bbk-' || :b)::uuid, 'trip_end', 'available', now(), 52.5, 13.4,
        md5('pgbr-' || :seq)::uuid, now());
\endif
\if :notify_inside
SELECT pg_notify('outbox_event_pgbench', '');
\endif
COMMIT;
\if :notify_after
SELECT pg_notify('outbox_event_pgbench', '');
SELECT pg_notify('fleet_bike_changed_pgbench', md5('pgb-rider-' || :client_id));
\endif
