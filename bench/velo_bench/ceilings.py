"""Ceilings: nginx return 200, a bare Django view per worker model, pgbench rent+finish."""

from __future__ import annotations

import os
import re

from velo_bench.common import log
from velo_bench.config import (
    BARE_PORT,
    BENCH,
    NGINX_CEILING_PORT,
    QUICK,
    RUN,
    SMALL_BIKES,
    STATIONS,
    WRK_SECONDS,
)
from velo_bench.rows import Baseline, Row
from velo_bench.servers import MODELS, STACK_MODEL
from velo_bench.shell import Spawned, free_port, psql, sh, wait_http
from velo_bench.wrk import wrk


def ceiling_nginx() -> dict:
    d = RUN / "ceiling-nginx"
    (d / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port(NGINX_CEILING_PORT)
    conf = (BENCH / "nginx_ceiling.conf").read_text().replace("__PORT__", str(port))
    (d / "nginx.conf").write_text(conf)
    proc = Spawned(
        "ceiling-nginx",
        ["nginx", "-e", "stderr", "-p", f"{d}/", "-c", str(d / "nginx.conf"), "-g", "daemon off;"],
        cwd=d,
        env=dict(os.environ),
    )
    try:
        wait_http(port, "/", proc=proc)
        return {f"c{c}": wrk(f"http://127.0.0.1:{port}/", clients=c) for c in (32, 128)}
    finally:
        proc.stop()


def ceiling_bare(models: list[str]) -> dict:
    out = {}
    for name in models:
        port = free_port(BARE_PORT)
        proc = Spawned(
            f"bare-{name}",
            MODELS[name]("bareproj:application", port),
            cwd=BENCH / "bare_django",
            env=dict(os.environ),
        )
        try:
            wait_http(port, "/bare", proc=proc)
            out[name] = {
                f"c{c}": wrk(f"http://127.0.0.1:{port}/bare", clients=c)
                for c in ([8, 32, 128] if name == STACK_MODEL and not QUICK else [32])
            }
            log(f"  bare django {name}: {out[name]['c32']['rps']} req/s at 32 clients")
        finally:
            proc.stop()
    return out


def pgbench_cleanup() -> None:
    psql(
        "DELETE FROM rentals_rental WHERE user_email = 'pgbench@velo.bench'; "
        "DELETE FROM outbox_outboxevent WHERE payload->>'producer' = 'bench-pgbench'; "
        "UPDATE fleet_bike SET status = 'available' WHERE status = 'rented' AND NOT EXISTS "
        "(SELECT 1 FROM rentals_rental r WHERE r.bike_id = fleet_bike.id AND r.status = 'active');"
    )


def pgbench_rent_finish(
    *, clients: int, seconds: int, vehicle_log: int = 1, per_statement: bool = False
) -> str:
    """`bench/pgbench/rent_finish.sql` as the service sends it (nothing notified inside the transaction, two
    NOTIFYs after commit; the MDS vehicle events unless `vehicle_log=0`) against the rentals database, each
    client over its own slice of the bikes; its rows are removed afterwards. Returns pgbench's report."""
    text = sh(
        [
            "pgbench",
            "-n",
            "-f",
            str(BENCH / "pgbench" / "rent_finish.sql"),
            "-D",
            f"slice={SMALL_BIKES // clients}",
            "-D",
            f"stations={STATIONS}",
            "-D",
            "notify_inside=0",
            "-D",
            "notify_after=1",
            "-D",
            f"vehicle_log={vehicle_log}",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            *(["-r"] if per_statement else []),
            os.environ["RENTALS_DATABASE_URL"],
        ],
        timeout=seconds + 120,
    )
    pgbench_cleanup()
    return text


def ceiling_pgbench() -> dict:
    out = {}
    for clients in [32] if QUICK else [8, 32]:
        text = pgbench_rent_finish(clients=clients, seconds=WRK_SECONDS, per_statement=True)
        tps = float(re.search(r"tps = ([\d.]+) \(without initial", text).group(1))
        lat = re.search(r"latency average = ([\d.]+) ms", text)
        failed = re.search(r"number of failed transactions: (\d+)", text)
        out[f"c{clients}"] = {
            "clients": clients,
            "cycles_per_s": round(tps, 1),
            "transactions_per_s": round(2 * tps, 1),
            "latency_avg_ms": float(lat.group(1)) if lat else None,
            "failed": int(failed.group(1)) if failed else 0,
        }
        log(f"  pgbench {clients} clients: {tps:.0f} cycles/s")
    return out


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The ceiling rows in the result table."""
    ce = base.ceilings
    nginx32 = base.nginx32
    rows: list[Row] = []
    rows.append(
        (
            "ceiling nginx return 200",
            f"c32 {nginx32} rps, c128 {ce['nginx'].get('c128', {}).get('rps')} rps",
            "",
            "",
            "",
            "",
        )
    )
    for model, item in ce["bare_django"].items():
        rows.append(
            (
                f"ceiling bare Django {model}",
                f"c32 {item['c32']['rps']} rps p99 {item['c32']['p99_ms']} ms",
                "",
                "",
                "",
                "",
            )
        )
    for key, item in ce["pgbench"].items():
        rows.append(
            (f"ceiling pgbench rent+finish {key}", f"{item['cycles_per_s']} cycles/s", "", "", "", "")
        )
    return rows
