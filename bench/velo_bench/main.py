"""The run: every wanted phase in order, then the results file and the table."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

from velo_bench.ceilings import ceiling_bare, ceiling_nginx, ceiling_pgbench
from velo_bench.common import log
from velo_bench.config import (
    AUTH_PORT,
    BACKLOG,
    BENCH,
    GATEWAY_PORT,
    LARGE_BIKES,
    LARGE_RENTALS,
    N_RIDERS,
    QUICK,
    ROOT,
    RUN,
    S2_SECONDS,
    S3_RATE,
    S3_SECONDS,
    STACK,
    WRK_SECONDS,
    wanted,
)
from velo_bench.machine import git_rev, machine
from velo_bench.pipeline import wait_billing_idle
from velo_bench.probes import explain_hot_paths, probe
from velo_bench.procs import merge_rss
from velo_bench.report import table
from velo_bench.riders import ensure_riders
from velo_bench.s1 import scenario1
from velo_bench.s2 import scenario2
from velo_bench.s3 import scenario3_backlog, scenario3_lag
from velo_bench.s4 import deep_history_cursor, scenario4
from velo_bench.s5 import login_load, token_verify_cost
from velo_bench.s6 import S6_CLIENTS, S6_WRITERS, scenario6
from velo_bench.s7 import S7_ALERTS, S7_ZONES, scenario7
from velo_bench.s8 import MDS_EVENTS, MDS_TRIPS, scenario8
from velo_bench.s9 import S9_TODAY, S9_TOTAL, scenario9
from velo_bench.seeding import seed_large, seed_small
from velo_bench.servers import STACK_MODEL, models_available, swap_rentals_web
from velo_bench.shell import pid_file, sh, stack


def main() -> int:
    if os.environ.get("VELO_RUN_DIR") != str(RUN) or STACK in ("dev", "test"):
        print(f"refusing to run: the environment is not the {STACK} stack's ({RUN}/env.sh)", file=sys.stderr)
        return 2
    started = dt.datetime.now(dt.UTC)
    res: dict = {
        "date_utc": started.isoformat().replace("+00:00", "Z"),
        "command": " ".join(
            ["bash bench/run.sh"]
            + (["(BENCH_QUICK=1)"] if QUICK else [])
            + ([f"(BENCH_STACK={STACK})"] if STACK != "bench" else [])
        ),
        "quick": QUICK,
        "machine": machine(),
        "git": git_rev(),
        "settings": {
            "wrk_seconds": WRK_SECONDS,
            "s2_seconds": S2_SECONDS,
            "s3_seconds": S3_SECONDS,
            "s3_rate": S3_RATE,
            "backlog": BACKLOG,
            "riders": N_RIDERS,
            "stack_model": STACK_MODEL,
        },
        "ceilings": {},
        "scenarios": {},
        "rss": {},
        "notes": [],
    }
    busy = sh(["bash", "-c", "ps -eo pcpu=,args= | sort -rn | head -5"], check=False)
    res["machine"]["top_processes_at_start"] = busy.strip().splitlines()
    models = models_available()
    rentals_swapped = False
    try:
        log("riders (register/login through auth's API)")
        riders = ensure_riders()
        log("seeding the small data set (1 000 stations, 10 000 bikes, 10 000 rentals)")
        res["data_small"] = seed_small(riders)

        if wanted("ceilings"):
            # A stack that just started may still be working off billing events of an earlier run (the
            # 2026-12-02 02:00 run measured its ceilings at half speed that way).
            wait_billing_idle(180)
            log("ceiling: nginx return 200")
            res["ceilings"]["nginx"] = ceiling_nginx()
            log("ceiling: bare Django JSON view")
            res["ceilings"]["bare_django"] = ceiling_bare(models)
            log("ceiling: pgbench rent+finish")
            res["ceilings"]["pgbench"] = ceiling_pgbench()

        if wanted("s1"):
            log("S1 authenticated GET /api/bikes")
            rentals_swapped = True
            res["scenarios"]["s1"] = scenario1(riders[0]["access"], models, res["rss"])
            rentals_swapped = False

        if wanted("s5"):
            log("S5 token verification cost and login throughput")
            s5 = {"token_verify": token_verify_cost(riders[0]["access"])}
            s5["login_direct"] = login_load(AUTH_PORT, riders, clients=4, seconds=4 if QUICK else 10)
            merge_rss(res["rss"], s5["login_direct"].pop("rss"))
            if not QUICK:
                s5["login_gateway"] = login_load(GATEWAY_PORT, riders, clients=4, seconds=5)
                s5["login_gateway"].pop("rss")
            res["scenarios"]["s5"] = s5

        if wanted("s2"):
            log("S2 rent → finish cycles")
            res["scenarios"]["s2"] = {
                f"c{c}": scenario2(riders, c, res["rss"]) for c in ([32] if QUICK else [8, 32])
            }
            if not QUICK:
                # The same load without the billing pipeline competing for the 2 cores: what the web path
                # and PostgreSQL carry by themselves. Its finishes are billed before S3 starts.
                stack("stop", "billing-worker", STACK)
                try:
                    res["scenarios"]["s2"]["c32 billing stopped"] = scenario2(riders, 32, res["rss"])
                finally:
                    stack("start", "billing-worker", STACK)
                wait_billing_idle(180)
            for key, item in res["scenarios"]["s2"].items():
                log(
                    f"  S2 {key}: {item['cycles_per_s']} cycles/s, "
                    f"p99 {item['request_p99_ms']} ms, {item['statuses']}"
                )

        if wanted("s6"):
            if STACK_MODEL not in res["ceilings"].get("bare_django", {}):
                log("ceiling: bare Django JSON view (for S6)")
                res["ceilings"].setdefault("bare_django", {}).update(ceiling_bare([STACK_MODEL]))
            wait_billing_idle(180)
            log(f"S6 mixed: {S6_CLIENTS - S6_WRITERS} clients list bikes while {S6_WRITERS} rent and finish")
            res["scenarios"]["s6"] = scenario6(riders)
            for key in ("mixed", "reads_only", "cycles_only"):
                item = res["scenarios"]["s6"][key]
                log(
                    f"  S6 {key}: {item['reads_per_s']} reads/s p99 {item['read_p99_ms']} ms, "
                    f"{item['cycles_per_s']} cycles/s rent p99 {item['rent_p99_ms']} ms, "
                    f"staleness {item.get('staleness')}"
                )
            log(f"  relay wake-up: {res['scenarios']['s6']['relay_wake']}")
            wait_billing_idle(180)

        if wanted("s3"):
            log(f"S3 billing lag at {S3_RATE} finishes/s for {S3_SECONDS}s")
            res["scenarios"]["s3"] = {"lag": scenario3_lag(riders)}
            log(f"  lag: {res['scenarios']['s3']['lag']}")
            log(f"S3 worker drain of a {BACKLOG}-event backlog")
            res["scenarios"]["s3"]["backlog"] = scenario3_backlog()
            log(f"  drain: {res['scenarios']['s3']['backlog']}")
            wait_billing_idle(30 if QUICK else 420)  # a partial drain finishes before latency is measured

        if wanted("s7"):
            log(f"S7 GBFS feeds with {S7_ZONES} zones and {S7_ALERTS} alerts, uncached")
            res["scenarios"]["s7"] = scenario7(riders[0]["access"])
            log(f"  S7: {res['scenarios']['s7']}")

        if wanted("s8"):
            log(f"S8 MDS at scale ({MDS_EVENTS} vehicle events, {MDS_TRIPS} trips) and the log's CPU share")
            scenario8(res["scenarios"].setdefault("s8", {}))

        if wanted("s9"):
            log(f"S9 GET /api/stats/today with {S9_TOTAL} rentals, {S9_TODAY} of them today")
            res["scenarios"]["s9"] = scenario9()
            log(f"  S9: {res['scenarios']['s9']['served']}")

        if wanted("s4"):
            log("S4 page latency at the small scale")
            token, user_id = riders[0]["access"], riders[0]["user_id"]
            probe_n = 5 if QUICK else 20
            s4 = {"small": scenario4(riders[0])}
            deep = "/api/rentals?cursor=" + deep_history_cursor(user_id)[0]
            s4["probe_small"] = probe(token, gbfs_cache=False, n=probe_n, extra=[deep])
            s4["explain_small"] = explain_hot_paths(token, user_id, s4["probe_small"])
            log(f"seeding the large data set ({LARGE_RENTALS} rentals, {LARGE_BIKES} bikes)")
            res["data_large"] = seed_large()
            log("S4 page latency at the large scale")
            s4["large"] = scenario4(riders[0])
            deep = "/api/rentals?cursor=" + deep_history_cursor(user_id)[0]
            s4["probe_large"] = probe(token, gbfs_cache=False, n=probe_n, extra=[deep])
            s4["explain_large"] = explain_hot_paths(token, user_id, s4["probe_large"])
            s4["explain_large_seq_scans"] = sorted(
                {
                    f"{name}: {table_name}"
                    for name, item in s4["explain_large"].items()
                    for table_name in item["seq_scans_big"]
                }
            )
            res["scenarios"]["s4"] = s4
    except Exception as exc:  # still write what was measured
        res["error"] = f"{type(exc).__name__}: {exc}"
        log(f"ERROR: {res['error']}")
    finally:
        if rentals_swapped and pid_file("rentals-web") is None:
            swap_rentals_web(None)
    res["finished_utc"] = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    res["machine"]["loadavg_at_end"] = os.getloadavg()
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{started:%Y%m%dT%H%M%SZ}{'-quick' if QUICK else ''}.json"
    path.write_text(json.dumps(res, indent=2, default=str))
    try:
        print(table(res))
        path.with_suffix(".md").write_text(table(res, markdown=True) + "\n")
    except Exception as exc:
        print(f"(table incomplete: {exc})")
    print(
        f"\nresults: {path.relative_to(ROOT)}  (rev {res['git']['revision'][:10]}"
        f"{' dirty' if res['git']['dirty'] else ''}, "
        f"{res['machine']['cores']} cores {res['machine']['cpu_model']})"
    )
    return 1 if "error" in res else 0
