"""Scenario 7: GBFS feeds with 1 000 zones and 100 alerts, uncached (issue 24)."""

from __future__ import annotations

from velo_bench.config import BENCH, QUICK
from velo_bench.probes import probe
from velo_bench.rows import Baseline, Row, ok
from velo_bench.s4 import sample_latency
from velo_bench.servers import STACK_MODEL, swap_rentals_web
from velo_bench.shell import psql

S7_ZONES, S7_ALERTS = 1000, 100
S7_FEEDS = [
    f"/gbfs/v3/{name}.json"
    for name in (
        "system_alerts",
        "geofencing_zones",
        "station_status",
        "vehicle_status",
        "station_information",
    )
]


def scenario7(token: str) -> dict:
    """GBFS with 1 000 zones and 100 alerts at the small scale (10 000 bikes, 1 000 stations), uncached:
    the in-process build cost (GBFS_CACHE=off, bench/velo_bench/experiments/probe.py) and the latency
    through the gateway of a rentals web with its feed cache off. The zones and alerts are removed
    afterwards."""
    psql(file=BENCH / "sql" / "seed_fleetops.sql", variables={"zones": S7_ZONES, "alerts": S7_ALERTS})
    counts = psql(
        "SELECT (SELECT count(*) FROM zones_zone), (SELECT count(*) FROM alerts_servicealert),"
        " (SELECT count(*) FROM fleet_bike WHERE status <> 'retired')"
    ).strip()
    zones, alerts, bikes = (int(x) for x in counts.split("|"))
    out: dict = {"zones": zones, "alerts": alerts, "bikes": bikes}
    try:
        out["probe"] = {
            path: {k: item[k] for k in ("status", "bytes", "inprocess_p50_ms", "inprocess_max_ms")}
            for path, item in probe(token, gbfs_cache=False, n=5 if QUICK else 20, paths=S7_FEEDS).items()
        }
        proc = swap_rentals_web(STACK_MODEL, env={"GBFS_CACHE": "off"})
        try:
            out["served_uncached"] = {
                path: sample_latency(path, None, n=10 if QUICK else 40) for path in S7_FEEDS
            }
        finally:
            proc.stop()
            swap_rentals_web(None)
    finally:
        psql(
            "DELETE FROM zones_zone WHERE name LIKE 'Bench zone %';"
            " DELETE FROM alerts_servicealert WHERE summary::text LIKE '%Bench alert%'"
        )
    return out


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The rows of S7 in the result table."""
    rows: list[Row] = []
    s7 = res["scenarios"].get("s7")
    if s7:
        for path, item in s7.get("served_uncached", {}).items():
            built = s7.get("probe", {}).get(path, {})
            rows.append(
                (
                    f"S7 GBFS uncached {path.rsplit('/', 1)[-1]} "
                    f"({s7['zones']} zones, {s7['alerts']} alerts, {s7['bikes']} bikes)",
                    f"served p50 {item['p50_ms']} p95 {item['p95_ms']} ms; build p50 "
                    f"{built.get('inprocess_p50_ms')} ms, {built.get('bytes')} B",
                    "",
                    "",
                    "≤200ms",
                    ok(item["p95_ms"] is not None and item["p95_ms"] <= 200),
                )
            )
    return rows
