"""In-process probes of the rentals service (probe.py) and EXPLAIN of the hot paths."""

from __future__ import annotations

import json
import re

from velo_bench.config import PACKAGE, RENTALS_VENV, ROOT
from velo_bench.servers import rentals_env
from velo_bench.shell import psql, sh

# "Bikes near me": nearest first from the middle of the seeded stations (bench/sql/seed_fleet.sql).
NEAREST_PATH = "/api/bikes?lat=52.5&lon=13.3"
PROBE_PATHS = [
    "/api/rentals+next",
    "/api/bikes+next",
    NEAREST_PATH + "+next",
    "/api/stations",
    "/gbfs/v3/station_information.json",
    "/gbfs/v3/station_status.json",
    "/gbfs/v3/vehicle_status.json",
]
# The rent/finish lookups (pgbench runs the whole transactions; these are the per-rider probes).
EXTRA_EXPLAINS = {
    "rent: active rental check": "SELECT 1 AS a FROM rentals_rental WHERE status = 'active' "
    "AND user_id = '{u}' LIMIT 1",
    "rent: wallet debt check": "SELECT 1 AS a FROM wallets_wallet WHERE balance < 0 "
    "AND user_id = '{u}' LIMIT 1",
}
BIG_TABLE_ROWS = 10_000


def probe(token: str, *, gbfs_cache: bool, n: int, paths: list[str] | None = None, extra=()) -> dict:
    """bench/velo_bench/experiments/probe.py in the rentals venv: exact SQL and in-process time per path."""
    env = dict(rentals_env(), PYTHONPATH=".", LOG_LEVEL="WARNING")
    if not gbfs_cache:
        env["GBFS_CACHE"] = "off"
    out = sh(
        [
            str(RENTALS_VENV / "python"),
            str(PACKAGE / "experiments" / "probe.py"),
            token,
            str(n),
            *(paths or PROBE_PATHS),
            *extra,
        ],
        env=env,
        cwd=ROOT / "services" / "rentals",
        timeout=600,
    )
    return json.loads(out.strip().splitlines()[-1])


def explain_hot_paths(token: str, user_id: str, probed: dict) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT the probed paths ran; seq scans on big tables flagged."""
    sizes = dict(
        line.split("|")
        for line in psql(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace = 'public'::regnamespace"
        ).splitlines()
        if "|" in line
    )
    statements = []
    for path, item in probed.items():
        for i, sql in enumerate(item["sql"]):
            sql = re.sub(r"^DECLARE .*? CURSOR WITH HOLD FOR ", "", sql)
            if sql.lstrip().upper().startswith("SELECT"):
                statements.append((f"{path} #{i}", sql))
    statements += [(name, sql.format(u=user_id)) for name, sql in EXTRA_EXPLAINS.items()]
    out = {}
    for name, sql in statements:
        plan = psql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        seq = sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))
        exec_ms = re.search(r"Execution Time: ([\d.]+) ms", plan)
        out[name] = {
            "sql": sql,
            "seq_scans": [f"{t} (~{sizes.get(t, '?')} rows)" for t in seq],
            "seq_scans_big": [t for t in seq if int(sizes.get(t, 0) or 0) >= BIG_TABLE_ROWS],
            "execution_ms": float(exec_ms.group(1)) if exec_ms else None,
            "plan": plan.strip().splitlines(),
        }
    return out
