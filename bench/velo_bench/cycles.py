"""Rent -> finish cycles of one rider (scenarios 2 and 3)."""

from __future__ import annotations

import json
import random
import threading
import time

from velo_bench.client import Client
from velo_bench.common import ms, pct, uid
from velo_bench.config import SMALL_BIKES, STATIONS


class CycleStats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.cycle_latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.cycles = 0
        self.finished: list[tuple[str, float]] = []  # (rental id, wall time of the finish answer)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            key = f"{kind}:{status}"
            self.statuses[key] = self.statuses.get(key, 0) + 1


def one_cycle(client: Client, rider: dict, stats: CycleStats) -> bool:
    bike = uid("bbk-", random.randint(1, SMALL_BIKES))
    start = time.perf_counter()
    status, body, took = client.request("POST", "/api/rentals", body={"bike_id": bike}, token=rider["access"])
    stats.add("rent", status, took)
    if status != 201:
        if status == 409 and b"active-rental-exists" in body:  # left over from an interrupted run
            st, b2, _ = client.request("GET", "/api/rentals/active", token=rider["access"])
            if st == 200:
                client.request(
                    "POST", f"/api/rentals/{json.loads(b2)['id']}/finish", body={}, token=rider["access"]
                )
        return False
    rental_id = json.loads(body)["id"]
    station = uid("bst-", random.randint(0, STATIONS - 1))
    status, body, took = client.request(
        "POST", f"/api/rentals/{rental_id}/finish", body={"station_id": station}, token=rider["access"]
    )
    stats.add("finish", status, took)
    if status != 200:
        return False
    with stats.lock:
        stats.cycles += 1
        stats.cycle_latencies.append(time.perf_counter() - start)
        stats.finished.append((rental_id, time.time()))
    return True


def summarize_cycles(stats: CycleStats, seconds: float) -> dict:
    five = sum(v for k, v in stats.statuses.items() if k.split(":")[1].startswith("5"))
    transport = sum(v for k, v in stats.statuses.items() if k.endswith(":0"))
    four = sum(v for k, v in stats.statuses.items() if k.split(":")[1].startswith("4"))
    requests = sum(stats.statuses.values())
    return {
        "seconds": round(seconds, 2),
        "cycles": stats.cycles,
        "cycles_per_s": round(stats.cycles / seconds, 1),
        "requests_per_s": round(requests / seconds, 1),
        "request_p50_ms": ms(pct(stats.latencies, 50)),
        "request_p99_ms": ms(pct(stats.latencies, 99)),
        "cycle_p50_ms": ms(pct(stats.cycle_latencies, 50)),
        "cycle_p99_ms": ms(pct(stats.cycle_latencies, 99)),
        "errors_5xx": five,
        "errors_4xx": four,
        "transport_errors": transport,
        "statuses": dict(sorted(stats.statuses.items())),
    }
