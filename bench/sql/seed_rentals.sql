-- Finished, already billed rentals :from..:to over bikes 1..:nbikes, spread over the 1000 riders of
-- bench.riders (rental n belongs to rider n % 1000, except that rider 0, whose history scenario 4 pages,
-- gets every 100th rental: 1 % of the table), one every 30 s going back from 2026-11-01.
-- Billed so that billing's reconciliation never re-emits them.
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
SELECT md5('brn-' || n)::uuid, r.user_id, r.email, r.name, md5('bbk-' || x.b)::uuid,
       'BB' || lpad(x.b::text, 6, '0'), 'finished', x.ts, x.ts + interval '10 minutes', 600,
       md5('bst-' || (x.b % 1000))::uuid, md5('bst-' || ((x.b + 7) % 1000))::uuid, t.id, t.snap,
       100 + (n % 500), 'EUR', md5('binv-' || n)::uuid,
       'invoices/' || to_char(x.ts, 'YYYY/MM') || '/' || md5('brn-' || n)::uuid || '.json',
       x.ts + interval '10 minutes 2 seconds'
FROM generate_series(:from, :to) AS n
CROSS JOIN LATERAL (SELECT 1 + ((n::bigint * 7919) % :nbikes)::int AS b,
                           timestamptz '2026-11-01 00:00:00+00' - n * interval '30 seconds' AS ts) AS x
JOIN bench.riders AS r ON r.idx = CASE WHEN n % 100 = 0 THEN 0 ELSE n % 1000 END
CROSS JOIN t;

-- Each bike's newest finished rental, as rental_finish keeps it (GBFS vehicle ids rotate on it).
UPDATE fleet_bike AS b SET last_rental_id = r.id
FROM (
    SELECT DISTINCT ON (bike_id) bike_id, id FROM rentals_rental
    WHERE status = 'finished' ORDER BY bike_id, ended_at DESC, id DESC
) AS r
WHERE r.bike_id = b.id AND b.last_rental_id IS DISTINCT FROM r.id;
