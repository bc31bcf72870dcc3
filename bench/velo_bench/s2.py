"""Scenario 2: rent -> finish cycles by a threaded Python client."""

from __future__ import annotations

import threading
import time

from velo_bench.client import Client
from velo_bench.config import GATEWAY_PORT, S2_SECONDS
from velo_bench.cycles import CycleStats, one_cycle, summarize_cycles
from velo_bench.procs import RssSampler, merge_rss, stack_groups
from velo_bench.rows import Baseline, Row, ok, ratio


def scenario2(riders: list[dict], clients: int, rss: dict) -> dict:
    stats = CycleStats()
    stop = threading.Event()

    def worker(rider: dict) -> None:
        client = Client(GATEWAY_PORT)
        while not stop.is_set():
            one_cycle(client, rider, stats)

    threads = [threading.Thread(target=worker, args=(riders[i],)) for i in range(clients)]
    with RssSampler(stack_groups()) as sampler:
        start = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(S2_SECONDS)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    merge_rss(rss, sampler.summary())
    out = summarize_cycles(stats, elapsed)
    out["clients"] = clients
    return out


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The rows of S2 in the result table."""
    bare32 = base.bare32
    pg32 = base.pg32
    rows: list[Row] = []
    s2 = res["scenarios"].get("s2")
    if s2:
        for key, item in s2.items():
            r = ratio(item["requests_per_s"], bare32)
            flag = (
                (r >= 0.3 and item["errors_5xx"] == 0 and item["request_p99_ms"] <= 100)
                if key == "c32" and r
                else None
            )
            rows.append(
                (
                    f"S2 rent→finish {key}",
                    f"{item['cycles_per_s']} cyc/s {item['requests_per_s']} rps p50 {item['request_p50_ms']} "
                    f"p99 {item['request_p99_ms']} ms 5xx {item['errors_5xx']} 4xx {item['errors_4xx']}",
                    f"bare {bare32} rps; pg {pg32} cyc/s",
                    f"{r} / {ratio(item['cycles_per_s'], pg32)}",
                    "≥0.30, no 5xx, p99≤100ms" if key == "c32" else "",
                    ok(flag),
                )
            )
    return rows
