-- Wipe the bench stack's rentals data (ONLY ever run against the bench stack: run.sh checks the port).
-- Tariffs stay (seed_demo's tariff is the one in force); everything else that bench seeds goes.
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.riders (idx int PRIMARY KEY, user_id uuid NOT NULL, email text NOT NULL, name text NOT NULL);
-- The MDS vehicle log is append-only (a trigger refuses UPDATE and DELETE); TRUNCATE of the bench's scratch copy
-- is the one way it is emptied.
TRUNCATE fleet_bike, fleet_station, rentals_rental, outbox_outboxevent, wallets_ledgerentry, wallets_wallet,
         idempotency_idempotencyrecord, riders_rider, vehicle_events_vehicleevent CASCADE;
TRUNCATE bench.riders;
