"""Scenario 9: the operator console's GET /api/stats/today with 1 000 000 rentals, 100 000 of them today
(issue 26; target ≤ 100 ms). The first request of the day stores the settled hours (cold); the samples
after it aggregate only the unsettled rest of the day."""

from __future__ import annotations

import json
import os

from velo_bench.client import Client
from velo_bench.common import log
from velo_bench.config import BENCH, GATEWAY_PORT, QUICK, SMALL_BIKES
from velo_bench.rows import Baseline, Row, ok
from velo_bench.s4 import sample_latency
from velo_bench.shell import psql

S9_TOTAL = 200_000 if QUICK else 1_000_000
S9_TODAY = 20_000 if QUICK else 100_000
S9_TARGET_MS = 100

# The statements stats.selectors.stats_today sends (Django's SQL as `str(queryset.query)` prints it, with
# today's bounds): EXPLAIN shows which index each one reads.
EXPLAINED = {
    "started_per_hour": "SELECT date_trunc('hour', started_at AT TIME ZONE 'UTC'), count(*)"
    " FROM rentals_rental WHERE started_at >= {start} AND started_at < {end} GROUP BY 1",
    "finished_per_hour": "SELECT date_trunc('hour', ended_at AT TIME ZONE 'UTC'), cost_currency, count(*),"
    " sum(cost_amount), sum(duration_seconds), count(billed_at), sum(billed_at - ended_at)"
    " FROM rentals_rental WHERE ended_at >= {start} AND ended_at < {end} GROUP BY 1, 2",
    "billing_pending": "SELECT count(*), min(ended_at) FROM rentals_rental"
    " WHERE status = 'finished' AND invoice_id IS NULL",
    "active": "SELECT count(*) FROM rentals_rental WHERE status = 'active'",
}
TODAY = (
    "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day'",
)


def _admin_token() -> str:
    status, body, _ = Client(GATEWAY_PORT).request(
        "POST",
        "/api/auth/token",
        body={"email": os.environ["ADMIN_EMAIL"], "password": os.environ["ADMIN_PASSWORD"]},
    )
    if status != 200:
        raise RuntimeError(f"admin login for S9: {status} {body[:200]!r}")
    return json.loads(body)["access"]


def _plan_nodes(sql: str) -> list[str]:
    plan = json.loads(psql(f"EXPLAIN (FORMAT JSON) {sql}"))[0]["Plan"]
    nodes: list[str] = []

    def walk(node: dict) -> None:
        name = node["Node Type"] + (f" using {node['Index Name']}" if "Index Name" in node else "")
        nodes.append(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return nodes


def scenario9() -> dict:
    """Seed S9_TOTAL rentals in all (the small set's included), S9_TODAY of them today, vacuum, then sample
    the endpoint through the gateway as the admin; the seeded rentals are deleted afterwards."""
    existing = int(psql("SELECT count(*) FROM rentals_rental").strip())
    to_seed = max(0, S9_TOTAL - existing)
    step = 250_000
    try:
        for lo in range(1, to_seed + 1, step):
            hi = min(to_seed, lo + step - 1)
            psql(
                file=BENCH / "sql" / "seed_stats_today.sql",
                variables={"from": lo, "to": hi, "today": S9_TODAY, "nbikes": SMALL_BIKES},
            )
            log(f"  S9 rentals seeded up to {hi}")
        psql("VACUUM ANALYZE rentals_rental")
        counts = psql(
            f"SELECT count(*), count(*) FILTER (WHERE started_at >= {TODAY[0]}) FROM rentals_rental"
        ).strip()
        total, today = (int(x) for x in counts.split("|"))
        token = _admin_token()
        out: dict = {"rentals": total, "rentals_today": today, "target_ms": S9_TARGET_MS}
        psql("DELETE FROM stats_settledhour")
        status, _, took = Client(GATEWAY_PORT).request("GET", "/api/stats/today", token=token)
        out["cold_first_request"] = {"status": status, "ms": round(took * 1000, 2)}
        out["settled_hours"] = int(psql("SELECT count(*) FROM stats_settledhour").strip())
        out["served"] = sample_latency("/api/stats/today", token, n=40 if QUICK else 200)
        out["plans"] = {
            name: _plan_nodes(sql.format(start=TODAY[0], end=TODAY[1])) for name, sql in EXPLAINED.items()
        }
        return out
    finally:
        psql(
            "DELETE FROM rentals_rental WHERE id IN (SELECT md5('bs8-' || n)::uuid FROM generate_series(1, "
            f"{max(to_seed, 1)}) AS n)"
        )
        psql("VACUUM ANALYZE rentals_rental")


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The row of S9 in the result table."""
    s9 = res["scenarios"].get("s9")
    if not s9:
        return []
    served = s9["served"]
    return [
        (
            f"S9 GET /api/stats/today ({s9['rentals']} rentals, {s9['rentals_today']} today)",
            f"p50 {served['p50_ms']} p95 {served['p95_ms']} p99 {served['p99_ms']} ms; the day's first"
            f" request (stores {s9['settled_hours']} settled hours) {s9['cold_first_request']['ms']} ms",
            "",
            "",
            f"≤{S9_TARGET_MS}ms",
            ok(served["p95_ms"] is not None and served["p95_ms"] <= S9_TARGET_MS),
        )
    ]
