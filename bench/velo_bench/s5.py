"""Scenario 5: token verification cost in rentals and login throughput."""

from __future__ import annotations

import json
import threading
import time

from velo_bench.client import Client
from velo_bench.common import ms, pct
from velo_bench.config import QUICK, RENTALS_VENV, RIDER_PASSWORD, ROOT
from velo_bench.cycles import CycleStats
from velo_bench.procs import RssSampler, stack_groups
from velo_bench.rows import Baseline, Row
from velo_bench.servers import rentals_env
from velo_bench.shell import sh

TOKEN_BENCH = r"""
import json, os, time, django
django.setup()
from core.authentication import decode_access_token, reset_token_cache, user_from_claims
from riders.selectors import rider_is_deactivated
tok = os.environ["BENCH_TOKEN"]
n = int(os.environ.get("BENCH_N", "2000"))
def per_call(fn):
    for _ in range(50):
        fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return round((time.perf_counter() - t) / n * 1e6, 1)
def first_sight():
    reset_token_cache()
    return user_from_claims(decode_access_token(tok))
user = first_sight()
print(json.dumps({
    "verify_first_us": per_call(first_sight),
    "verify_remembered_us": per_call(lambda: user_from_claims(decode_access_token(tok))),
    "rider_check_read_us": per_call(lambda: rider_is_deactivated(user_id=user.id, for_write=False)),
    "rider_check_write_us": per_call(lambda: rider_is_deactivated(user_id=user.id, for_write=True)),
    "iterations": n,
}))
"""


def token_verify_cost(token: str) -> dict:
    env = dict(rentals_env(), BENCH_TOKEN=token, BENCH_N="500" if QUICK else "3000")
    out = sh([str(RENTALS_VENV / "python"), "-c", TOKEN_BENCH], env=env, cwd=ROOT / "services" / "rentals")
    return json.loads(out.strip().splitlines()[-1])


def login_load(
    port: int, riders: list[dict], clients: int, seconds: float, groups: dict | None = None
) -> dict:
    stats = CycleStats()
    stop = threading.Event()

    def worker(i: int) -> None:
        client = Client(port)
        rider = riders[i % len(riders)]
        while not stop.is_set():
            status, _, took = client.request(
                "POST", "/api/auth/token", body={"email": rider["email"], "password": RIDER_PASSWORD}
            )
            stats.add("login", status, took)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    with RssSampler(groups or stack_groups()) as sampler:
        start = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    ok = stats.statuses.get("login:200", 0)
    return {
        "port": port,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "ok_per_s": round(ok / elapsed, 1),
        "p50_ms": ms(pct(stats.latencies, 50)),
        "p99_ms": ms(pct(stats.latencies, 99)),
        "statuses": stats.statuses,
        "rss": sampler.summary(),
    }


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The rows of S5 in the result table."""
    rows: list[Row] = []
    s5 = res["scenarios"].get("s5")
    if s5:
        rows.append(
            (
                "S5 login direct (argon2)",
                f"{s5['login_direct']['ok_per_s']} logins/s p50 {s5['login_direct']['p50_ms']} ms",
                "",
                "",
                "report",
                "-",
            )
        )
        gw = s5.get("login_gateway")
        if gw:
            rows.append(
                (
                    "S5 login via gateway",
                    f"{gw['ok_per_s']} ok/s, statuses {gw['statuses']}",
                    "",
                    "",
                    "report",
                    "-",
                )
            )
        tv = s5["token_verify"]
        rows.append(
            (
                "S5 token verify in rentals",
                f"verify {tv['verify_first_us']} µs first / {tv['verify_remembered_us']} µs remembered; "
                f"rider check {tv['rider_check_read_us']} µs read / {tv['rider_check_write_us']} µs write",
                "",
                "",
                "report",
                "-",
            )
        )
    return rows
