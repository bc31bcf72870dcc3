-- Scenario 8: rentals :from..:to over the small fleet (bikes 1..:nbikes) and the 1000 bench riders. The
-- first :today of them fall on today (UTC) between midnight and now, evenly spread; the rest go back one
-- every 5 s from yesterday 23:59:55. Every one is finished and billed 2 s after its end, except today's last
-- 100 (still waiting for billing, as in a busy moment). Ids md5('bs8-' || n): scenario 8 deletes exactly these.
WITH t AS (
    SELECT id, jsonb_build_object('id', id::text, 'name', name, 'unlock_fee', unlock_fee,
                                  'price_per_minute', price_per_minute, 'daily_cap', daily_cap,
                                  'currency', currency) AS snap
    FROM fleet_tariff WHERE is_active AND valid_from <= now()
    ORDER BY valid_from DESC, created_at DESC LIMIT 1
), day AS (
    SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS midnight
)
INSERT INTO rentals_rental (id, user_id, user_email, user_name, bike_id, bike_number, status, started_at,
                            ended_at, duration_seconds, start_station_id, end_station_id, tariff_id,
                            tariff_snapshot, cost_amount, cost_currency, invoice_id, invoice_s3_key, billed_at)
SELECT md5('bs8-' || n)::uuid, r.user_id, r.email, r.name, md5('bbk-' || x.b)::uuid,
       'BB' || lpad(x.b::text, 6, '0'), 'finished', x.ts, x.ts + x.ride, extract(epoch FROM x.ride)::int,
       md5('bst-' || (x.b % 1000))::uuid, md5('bst-' || ((x.b + 7) % 1000))::uuid, t.id, t.snap,
       CASE WHEN x.unbilled THEN NULL ELSE 100 + (n % 500) END, CASE WHEN x.unbilled THEN '' ELSE 'EUR' END,
       CASE WHEN x.unbilled THEN NULL ELSE md5('bs8inv-' || n)::uuid END,
       CASE WHEN x.unbilled THEN '' ELSE 'invoices/bench/' || md5('bs8-' || n) || '.json' END,
       CASE WHEN x.unbilled THEN NULL ELSE x.ts + x.ride + interval '2 seconds' END
FROM generate_series(:from, :to) AS n
CROSS JOIN day
CROSS JOIN LATERAL (
    SELECT 1 + ((n::bigint * 7919) % :nbikes)::int AS b,
           CASE WHEN n <= :today
                THEN day.midnight + (now() - interval '20 minutes' - day.midnight) * (n::float8 / :today)
                ELSE day.midnight - (n - :today) * interval '5 seconds' END AS ts,
           make_interval(secs => 120 + (n % 1800)) AS ride,
           n <= :today AND n > :today - 100 AS unbilled
) AS x
JOIN bench.riders AS r ON r.idx = n % 1000
CROSS JOIN t;
