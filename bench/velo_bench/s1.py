"""Scenario 1: authenticated GET /api/bikes with wrk."""

from __future__ import annotations

import json

from velo_bench.client import Client
from velo_bench.common import log
from velo_bench.config import GATEWAY_PORT, RENTALS_PORT, S1_CLIENTS
from velo_bench.procs import RssSampler, merge_rss, stack_groups
from velo_bench.rows import Baseline, Row, ok, ratio
from velo_bench.servers import STACK_MODEL, swap_rentals_web
from velo_bench.wrk import wrk


def scenario1(token: str, models: list[str], rss: dict) -> dict:
    url = f"http://127.0.0.1:{GATEWAY_PORT}/api/bikes"
    status, body, _ = Client(GATEWAY_PORT).request("GET", "/api/bikes", token=token)
    if status != 200 or not json.loads(body).get("results"):
        raise RuntimeError(f"GET /api/bikes answered {status}: {body[:300]!r}")
    out: dict = {"by_model_c32": {}}
    for model in models:
        if model == STACK_MODEL:
            continue
        proc = swap_rentals_web(model)
        try:
            wrk(url, clients=8, seconds=2, token=token)  # warm-up
            with RssSampler({"rentals-web": proc.pid}) as sampler:
                out["by_model_c32"][model] = wrk(url, clients=32, token=token)
            out["by_model_c32"][model]["rss"] = sampler.summary()["rentals-web"]
            log(f"  S1 {model}: {out['by_model_c32'][model]['rps']} req/s at 32 clients")
        finally:
            proc.stop()
            swap_rentals_web(None)
    # The same page with the bike-list page cache off (fleet/page_cache.py): every request through Django,
    # DRF and PostgreSQL, as under write traffic, where each bike change drops the cached pages.
    proc = swap_rentals_web(STACK_MODEL, env={"BIKE_LIST_CACHE_SECONDS": "0"})
    try:
        wrk(url, clients=8, seconds=2, token=token)  # warm-up
        out["cache_off_c32"] = wrk(url, clients=32, token=token)
        log(f"  S1 page cache off: {out['cache_off_c32']['rps']} req/s at 32 clients")
    finally:
        proc.stop()
        swap_rentals_web(None)
    wrk(url, clients=8, seconds=2, token=token)  # warm-up of the stack's own rentals-web
    out["clients"] = {}
    for c in S1_CLIENTS:
        with RssSampler(stack_groups()) as sampler:
            out["clients"][f"c{c}"] = wrk(url, clients=c, token=token)
        merge_rss(rss, sampler.summary())
        log(
            f"  S1 stack {c} clients: {out['clients'][f'c{c}']['rps']} req/s "
            f"p99 {out['clients'][f'c{c}']['p99_ms']} ms"
        )
    out["by_model_c32"][STACK_MODEL] = out["clients"]["c32"]
    out["direct_c32"] = wrk(f"http://127.0.0.1:{RENTALS_PORT}/api/bikes", clients=32, token=token)
    return out


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The rows of S1 in the result table."""
    ce = base.ceilings
    bare32 = base.bare32
    nginx32 = base.nginx32
    rows: list[Row] = []
    s1 = res["scenarios"].get("s1")
    if s1:
        for key, item in s1["clients"].items():
            bare = ce["bare_django"].get(STACK_MODEL, {}).get(key, {}).get("rps") or bare32
            r = ratio(item["rps"], bare)
            target = "≥0.50, p99≤50ms" if key == "c32" else ""
            flag = (r is not None and r >= 0.5 and item["p99_ms"] <= 50) if key == "c32" else None
            rows.append(
                (
                    f"S1 GET /api/bikes {key}",
                    f"{item['rps']} rps p50 {item['p50_ms']} p99 {item['p99_ms']} ms",
                    f"bare {bare} rps",
                    r,
                    target,
                    ok(flag),
                )
            )
        for model, item in s1["by_model_c32"].items():
            bare = ce["bare_django"].get(model, {}).get("c32", {}).get("rps")
            rows.append(
                (
                    f"S1 c32 {model}",
                    f"{item['rps']} rps p99 {item['p99_ms']} ms",
                    f"bare {bare} rps",
                    ratio(item["rps"], bare),
                    "",
                    "-",
                )
            )
        if "cache_off_c32" in s1:
            item = s1["cache_off_c32"]
            rows.append(
                (
                    "S1 c32 page cache off",
                    f"{item['rps']} rps p50 {item['p50_ms']} p99 {item['p99_ms']} ms",
                    f"bare {bare32} rps",
                    ratio(item["rps"], bare32),
                    "",
                    "-",
                )
            )
        gw = s1["clients"].get("c32", {}).get("rps")
        rows.append(
            (
                "S1 c32 gateway/direct",
                f"{s1['direct_c32']['rps']} rps direct",
                f"nginx {nginx32} rps",
                ratio(gw, s1["direct_c32"]["rps"]),
                "",
                "-",
            )
        )
    return rows
