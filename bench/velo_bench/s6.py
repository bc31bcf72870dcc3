"""Scenario 6: mixed load, list staleness and relay delivery (issue 20)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
import uuid

from velo_bench.client import Client
from velo_bench.common import ms, pct, uid
from velo_bench.config import (
    AUTH_PORT,
    GATEWAY_PORT,
    PACKAGE,
    QUICK,
    RENTALS_VENV,
    RIDER_PASSWORD,
    STATIONS,
)
from velo_bench.probes import NEAREST_PATH
from velo_bench.procs import PIPELINE_PROCESSES, cpu_seconds
from velo_bench.rows import Baseline, Row, ok, ratio
from velo_bench.wrk import wrk

# Mixed load (issue 20): a quarter of the clients rent and finish, each over bikes of its own, while the rest
# list bikes (the first page and a nearest-first page). Besides throughput and latency it measures how stale
# a list can be: a finish returns its bike at a random station, so (bike, station) names one finish, and the
# time from that finish's 200 to the first list answer showing the bike at that station is its staleness.
S6_SECONDS = 5 if QUICK else 15
S6_CLIENTS = 32
S6_WRITERS = S6_CLIENTS // 4
S6_OBSERVERS = 4  # Python readers that parse the first page for the writers' bikes (the others are wrk)
# Each writer rotates over this many bikes, so a returned bike stays listed for several cycles (about
# 1-2 s) before its next rent: long enough to be seen, and all of them on the first page of 100.
S6_BIKES_PER_WRITER = 10
S6_FIRST_PAGE = "/api/bikes?page_size=100"
S6_PROCESSES = (*PIPELINE_PROCESSES, "auth-web", "auth-relay")


def s6_bikes(writer: int) -> list[str]:
    return [uid("bbk-", writer * S6_BIKES_PER_WRITER + k + 1) for k in range(S6_BIKES_PER_WRITER)]


class MixedStats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.statuses: dict[str, int] = {}
        self.cycles = 0
        self.finishes: list[tuple[str, str, float]] = []  # (bike, station, wall time of the finish's 200)
        self.seen: dict[tuple[str, str], float] = {}  # (bike, station) -> first list answer showing it
        self.own_fresh = 0  # the writer's own list right after its finish showed the bike where returned
        self.own_stale = 0
        self.answered: dict[str, float] = {}  # rental id -> wall time of the rent's 201 (relay wake-up)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            key = f"{kind}:{status}"
            self.statuses[key] = self.statuses.get(key, 0) + 1


def _listed_stations(body: bytes, bikes: set[str]) -> dict[str, str | None]:
    return {item["id"]: item["station_id"] for item in json.loads(body)["results"] if item["id"] in bikes}


def s6_writer(rider: dict, bikes: list[str], stats: MixedStats, stop: threading.Event) -> None:
    client = Client(GATEWAY_PORT)
    token = rider["access"]
    turn = 0
    while not stop.is_set():
        bike = bikes[turn % len(bikes)]
        turn += 1
        status, body, took = client.request("POST", "/api/rentals", body={"bike_id": bike}, token=token)
        stats.add("rent", status, took)
        if status != 201:
            if status == 409 and b"active-rental-exists" in body:  # left over from an interrupted run
                st, b2, _ = client.request("GET", "/api/rentals/active", token=token)
                if st == 200:
                    client.request(
                        "POST", f"/api/rentals/{json.loads(b2)['id']}/finish", body={}, token=token
                    )
            continue
        rental_id = json.loads(body)["id"]
        with stats.lock:
            stats.answered[rental_id] = time.time()
        station = uid("bst-", random.randint(0, STATIONS - 1))
        status, body, took = client.request(
            "POST", f"/api/rentals/{rental_id}/finish", body={"station_id": station}, token=token
        )
        stats.add("finish", status, took)
        if status != 200:
            continue
        done = time.time()
        # Read-your-writes: the rider's own list, asked for right after the answer.
        st, page, took = client.request("GET", S6_FIRST_PAGE, token=token)
        stats.add("own read", st, took)
        fresh = st == 200 and _listed_stations(page, {bike}).get(bike) == station
        with stats.lock:
            stats.cycles += 1
            stats.finishes.append((bike, station, done))
            stats.own_fresh += fresh
            stats.own_stale += not fresh


def s6_reader(n: int, token: str, watched: set[str] | None, stats: MixedStats, stop: threading.Event) -> None:
    client = Client(GATEWAY_PORT)
    paths = (S6_FIRST_PAGE, NEAREST_PATH)
    turn = n
    while not stop.is_set():
        path = paths[turn % 2]
        turn += 1
        status, body, took = client.request("GET", path, token=token)
        stats.add("read", status, took)
        if watched and path == S6_FIRST_PAGE and status == 200:
            now = time.time()
            listed = _listed_stations(body, watched)
            with stats.lock:
                for bike, station in listed.items():
                    stats.seen.setdefault((bike, station), now)


def s6_phase(riders: list[dict], *, writers: int, readers: int, seconds: float) -> dict:
    stats = MixedStats()
    stop = threading.Event()
    watched = {bike for w in range(writers) for bike in s6_bikes(w)}
    threads = [
        threading.Thread(target=s6_writer, args=(riders[w], s6_bikes(w), stats, stop)) for w in range(writers)
    ]
    # Most readers are wrk connections (C: its own CPU per request is small next to a Python client's);
    # a few Python readers parse the first page for the writers' bikes.
    observers = min(readers, S6_OBSERVERS)
    threads += [
        threading.Thread(target=s6_reader, args=(n, riders[writers + n]["access"], watched, stats, stop))
        for n in range(observers)
    ]
    wrk_out: dict = {}
    if readers > observers:
        threads.append(
            threading.Thread(
                target=lambda: wrk_out.update(
                    wrk(
                        f"http://127.0.0.1:{GATEWAY_PORT}/",
                        clients=readers - observers,
                        seconds=seconds,
                        token=riders[writers + observers]["access"],
                        paths=[S6_FIRST_PAGE, NEAREST_PATH],
                    )
                )
            )
        )
    cpu_before, own_before = cpu_seconds(S6_PROCESSES), os.times()
    start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    cpu_after, own_after = cpu_seconds(S6_PROCESSES), os.times()
    cpu = {
        name: round(cpu_after[name] - cpu_before[name], 2)
        for name in cpu_after
        if name in cpu_before and cpu_after[name] >= cpu_before[name]
    }
    cpu["bench clients"] = round(sum(own_after[:4]) - sum(own_before[:4]), 2)  # wrk included (a child)
    lat = stats.latencies
    observed = len(lat.get("read", []))
    reads = observed + wrk_out.get("requests", 0)
    # Read latency: wrk's (most readers, and a client that adds little); the Python observers' apart.
    main_reads = wrk_out or {
        "p50_ms": ms(pct(lat.get("read", []), 50)),
        "p99_ms": ms(pct(lat.get("read", []), 99)),
    }
    out = {
        "writers": writers,
        "readers": readers,
        "seconds": round(elapsed, 2),
        "reads_per_s": round(reads / elapsed, 1),
        "read_p50_ms": main_reads["p50_ms"],
        "read_p99_ms": main_reads["p99_ms"],
        "wrk_readers": wrk_out,
        "observer_reads": {
            "clients": observers,
            "reads": observed,
            "p50_ms": ms(pct(lat.get("read", []), 50)),
            "p99_ms": ms(pct(lat.get("read", []), 99)),
        },
        "cycles_per_s": round(stats.cycles / elapsed, 1),
        "rent_p50_ms": ms(pct(lat.get("rent", []), 50)),
        "rent_p99_ms": ms(pct(lat.get("rent", []), 99)),
        "finish_p99_ms": ms(pct(lat.get("finish", []), 99)),
        "statuses": dict(sorted(stats.statuses.items())),
        "cpu_seconds": cpu,
        "answered": stats.answered,
    }
    if stats.cycles:
        stale = [
            max(0.0, stats.seen[(b, st)] - done) for b, st, done in stats.finishes if (b, st) in stats.seen
        ]
        out["staleness"] = {
            "finishes": len(stats.finishes),
            "seen": len(stale),
            "p50_ms": ms(pct(stale, 50)),
            "p99_ms": ms(pct(stale, 99)),
            "max_ms": ms(max(stale)) if stale else None,
        }
        out["own_list_after_finish"] = {"fresh": stats.own_fresh, "stale": stats.own_stale}
        out["cpu_ms_per_cycle"] = {k: round(1000 * v / stats.cycles, 2) for k, v in cpu.items()}
    if reads:
        out["cpu_ms_per_read"] = {k: round(1000 * v / reads, 3) for k, v in cpu.items()}
    return out


def relay_wake(events: list[dict], event_type: str, answered: dict[str, float]) -> dict:
    """Broker delivery after the write, two ways: from `occurred_at` (stamped in the transaction before its
    commit: an upper bound of the time from the commit) and from the client's receipt of the write's answer
    (sent after the commit: a lower bound; negative when the relay published before the answer arrived)."""
    mine = [e for e in events if e.get("type") == event_type]
    from_occurred = [e["received"] - e["occurred"] for e in mine]
    from_answer = [e["received"] - answered[e["key"]] for e in mine if e.get("key") in answered]
    out = {"events": len(mine)}
    for name, delays in (("from_occurred_at", from_occurred), ("from_answer", from_answer)):
        out[name] = {
            "p50_ms": ms(pct(delays, 50)),
            "p99_ms": ms(pct(delays, 99)),
            "max_ms": ms(max(delays)) if delays else None,
        }
    return out


def scenario6(riders: list[dict]) -> dict:
    """Mixed phase (with the relays' wake-up measured meanwhile), then reads alone and cycles alone for the
    CPU each costs per process."""
    probe_proc = subprocess.Popen(
        [str(RENTALS_VENV / "python"), str(PACKAGE / "experiments" / "relay_wake_probe.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    events: list[dict] = []
    first = probe_proc.stdout.readline()
    if '"ready"' not in first:
        raise RuntimeError(f"relay wake probe did not start: {first!r}")
    collector = threading.Thread(
        target=lambda: events.extend(json.loads(line) for line in probe_proc.stdout), daemon=True
    )
    collector.start()
    out: dict = {"loadavg_before": os.getloadavg()}
    try:
        out["mixed"] = s6_phase(
            riders, writers=S6_WRITERS, readers=S6_CLIENTS - S6_WRITERS, seconds=S6_SECONDS
        )
        # The auth relay: registrations (each commits a user.registered outbox row), spaced out.
        client = Client(AUTH_PORT)
        registered: dict[str, float] = {}
        for _ in range(5 if QUICK else 20):
            email = f"wake-{uuid.uuid4().hex[:12]}@velo.bench"
            status, _, _ = client.request(
                "POST",
                "/api/auth/register",
                body={"name": "Wake Probe", "email": email, "password": RIDER_PASSWORD},
            )
            if status == 201:
                registered[email] = time.time()
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        probe_proc.stdin.close()
        probe_proc.wait(timeout=30)
        collector.join(timeout=5)
    out["relay_wake"] = {
        "rentals rental.started": relay_wake(events, "rental.started", out["mixed"].pop("answered")),
        "auth user.registered": relay_wake(events, "user.registered", registered),
    }
    out["reads_only"] = s6_phase(riders, writers=0, readers=S6_CLIENTS - S6_WRITERS, seconds=S6_SECONDS)
    out["cycles_only"] = s6_phase(riders, writers=S6_WRITERS, readers=0, seconds=S6_SECONDS)
    for key in ("reads_only", "cycles_only"):
        out[key].pop("answered")
    out["loadavg_after"] = os.getloadavg()
    return out


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The rows of S6 in the result table."""
    bare32 = base.bare32
    rows: list[Row] = []
    s6 = res["scenarios"].get("s6")
    if s6:
        readers = S6_CLIENTS - S6_WRITERS
        bare_scaled = round(bare32 * readers / S6_CLIENTS, 1) if bare32 else None
        mixed = s6["mixed"]
        r = ratio(mixed["reads_per_s"], bare_scaled)
        rows.append(
            (
                f"S6 mixed reads c{readers}",
                f"{mixed['reads_per_s']} rps p50 {mixed['read_p50_ms']} p99 {mixed['read_p99_ms']} ms",
                f"bare {bare32} rps x{readers}/{S6_CLIENTS}",
                r,
                "≥0.50, p99≤50ms",
                ok(r is not None and r >= 0.5 and mixed["read_p99_ms"] <= 50),
            )
        )
        rows.append(
            (
                f"S6 mixed cycles c{S6_WRITERS}",
                f"{mixed['cycles_per_s']} cyc/s rent p50 {mixed['rent_p50_ms']} p99 {mixed['rent_p99_ms']}"
                f" finish p99 {mixed['finish_p99_ms']} ms",
                "",
                "",
                "≥40/s, p99≤300ms",
                ok(
                    mixed["cycles_per_s"] >= 40
                    and max(mixed["rent_p99_ms"] or 0, mixed["finish_p99_ms"] or 0) <= 300
                ),
            )
        )
        st = mixed.get("staleness", {})
        rows.append(
            (
                "S6 list staleness (others)",
                f"p50 {st.get('p50_ms')} p99 {st.get('p99_ms')} max {st.get('max_ms')} ms"
                f" ({st.get('seen')}/{st.get('finishes')} finishes seen before the next rent)",
                "",
                "",
                "p99≤1000ms",
                ok(st.get("p99_ms") is not None and st["p99_ms"] <= 1000),
            )
        )
        own = mixed.get("own_list_after_finish", {})
        rows.append(
            (
                "S6 own list after finish",
                f"{own.get('fresh')} fresh, {own.get('stale')} stale",
                "",
                "",
                "all fresh",
                ok(own.get("stale") == 0 if own else None),
            )
        )
        for name, wake in s6["relay_wake"].items():
            upper, lower = wake["from_occurred_at"], wake["from_answer"]
            rows.append(
                (
                    f"S6 relay delivery {name}",
                    f"after the answer p50 {lower['p50_ms']} p99 {lower['p99_ms']} max {lower['max_ms']} ms;"
                    f" after occurred_at p50 {upper['p50_ms']} p99 {upper['p99_ms']} ms"
                    f" ({wake['events']} events)",
                    "",
                    "",
                    "≤100ms",
                    ok(lower["p99_ms"] is not None and lower["p99_ms"] <= 100),
                )
            )
        for key, per, unit in (
            ("reads_only", "cpu_ms_per_read", "read"),
            ("cycles_only", "cpu_ms_per_cycle", "cycle"),
        ):
            item = s6[key]
            split = ", ".join(f"{k} {v}" for k, v in sorted(item.get(per, {}).items(), key=lambda kv: -kv[1]))
            rows.append(
                (
                    f"S6 {key.replace('_', ' ')} CPU per {unit}",
                    f"{item['reads_per_s'] if unit == 'read' else item['cycles_per_s']}/s; ms: {split}",
                    "",
                    "",
                    "",
                    "-",
                )
            )
    return rows
