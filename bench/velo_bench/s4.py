"""Scenario 4: page latency at the small and the large scale."""

from __future__ import annotations

import json
import statistics
from urllib.parse import urlsplit

from velo_bench.client import Client
from velo_bench.common import ms, pct
from velo_bench.config import GATEWAY_PORT, S4_SAMPLES
from velo_bench.probes import BIG_TABLE_ROWS, NEAREST_PATH
from velo_bench.rows import Baseline, Row, ok, ratio
from velo_bench.servers import STACK_MODEL, swap_rentals_web
from velo_bench.shell import psql


def sample_latency(path: str, token: str | None, n: int = S4_SAMPLES) -> dict:
    client = Client(GATEWAY_PORT)
    times = []
    status_seen = {}
    for i in range(n + 10):
        status, _, took = client.request("GET", path, token=token)
        status_seen[status] = status_seen.get(status, 0) + 1
        if i >= 10:
            times.append(took)
    return {
        "path": path,
        "n": n,
        "p50_ms": ms(pct(times, 50)),
        "p95_ms": ms(pct(times, 95)),
        "p99_ms": ms(pct(times, 99)),
        "mean_ms": ms(statistics.fmean(times)),
        "statuses": status_seen,
    }


def next_path(path: str, token: str) -> str | None:
    status, body, _ = Client(GATEWAY_PORT).request("GET", path, token=token)
    if status != 200:
        return None
    nxt = json.loads(body).get("next")
    if not nxt:
        return None
    parts = urlsplit(nxt)
    return parts.path + ("?" + parts.query if parts.query else "")


def gbfs_feeds() -> dict[str, str] | None:
    for discovery in ("/gbfs/v3/gbfs.json", "/gbfs/gbfs.json"):
        status, body, _ = Client(GATEWAY_PORT).request("GET", discovery)
        if status == 200:
            break
    else:
        return None
    data = json.loads(body).get("data", {})
    feeds = data.get("feeds")
    if feeds is None:  # GBFS 2.x: per language
        feeds = next(iter(data.values()), {}).get("feeds", []) if data else []
    out = {}
    for feed in feeds:
        parts = urlsplit(feed["url"])
        out[feed["name"]] = parts.path + ("?" + parts.query if parts.query else "")
    return out


def deep_history_cursor(user_id: str, fraction: float = 0.9) -> tuple[str, int, int]:
    """A `next` cursor (core/pagination.py format) pointing `fraction` deep into the rider's history."""
    import base64

    total = int(psql(f"SELECT count(*) FROM rentals_rental WHERE user_id = '{user_id}'").strip())
    offset = max(0, int(total * fraction) - 1)
    row = psql(
        "SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00', id "
        f"FROM rentals_rental WHERE user_id = '{user_id}' ORDER BY started_at DESC, id DESC "
        f"OFFSET {offset} LIMIT 1"
    ).strip()
    started, rid = row.split("|")
    raw = json.dumps({"v": [started, rid], "d": "n"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("="), offset, total


def scenario4(rider: dict) -> dict:
    """Page latency at a data scale, with the bike-list page cache off: S4 is about what the database does
    with 100x the rows, and repeated samples of one page would otherwise be answered from memory."""
    proc = swap_rentals_web(STACK_MODEL, env={"BIKE_LIST_CACHE_SECONDS": "0"})
    try:
        return _scenario4(rider)
    finally:
        proc.stop()
        swap_rentals_web(None)


def _scenario4(rider: dict) -> dict:
    token = rider["access"]
    cursor, depth, total = deep_history_cursor(rider["user_id"])
    out = {
        "history_deep": dict(
            sample_latency(f"/api/rentals?cursor={cursor}", token), depth=depth, history_rentals=total
        ),
        "history_page1": sample_latency("/api/rentals", token),
        "bikes_page1": sample_latency("/api/bikes", token),
        "stations_page1": sample_latency("/api/stations", token),
    }
    p2 = next_path("/api/rentals", token)
    if p2:
        out["history_page2"] = sample_latency(p2, token)
    b2 = next_path("/api/bikes", token)
    if b2:
        out["bikes_page2"] = sample_latency(b2, token)
    out["bikes_nearest_page1"] = sample_latency(NEAREST_PATH, token)
    n2 = next_path(NEAREST_PATH, token)
    if n2:
        out["bikes_nearest_page2"] = sample_latency(n2, token)
    feeds = gbfs_feeds()
    if feeds is None:
        out["gbfs"] = "not served (neither /gbfs/v3/gbfs.json nor /gbfs/gbfs.json answered 200)"
    else:
        out["gbfs"] = {
            name: sample_latency(path, None, n=max(10, S4_SAMPLES // 4)) for name, path in feeds.items()
        }
    return out


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The rows of S4 in the result table."""
    rows: list[Row] = []
    s4 = res["scenarios"].get("s4")
    if s4:
        small, large = s4.get("small", {}), s4.get("large", {})
        for page in (
            "history_page1",
            "history_page2",
            "history_deep",
            "bikes_page1",
            "bikes_page2",
            "bikes_nearest_page1",
            "bikes_nearest_page2",
            "stations_page1",
        ):
            a, b = small.get(page), large.get(page)
            if not a:
                continue
            r = ratio(b["p50_ms"], a["p50_ms"]) if b else None
            rows.append(
                (
                    f"S4 {page}",
                    f"p50 {a['p50_ms']} → {b['p50_ms'] if b else '?'} ms",
                    "",
                    f"x{r}",
                    "≤1.5x at 100x data" if page != "stations_page1" else "",
                    ok(r is not None and r <= 1.5) if page != "stations_page1" else "-",
                )
            )
        gb = small.get("gbfs")
        if isinstance(gb, dict):
            for name, item in gb.items():
                rows.append(
                    (
                        f"S4 GBFS {name}",
                        f"p50 {item['p50_ms']} p95 {item['p95_ms']} ms",
                        "",
                        "",
                        "≤200ms",
                        ok(item["p95_ms"] <= 200),
                    )
                )
        elif gb:
            rows.append(("S4 GBFS feeds", str(gb), "", "", "≤200ms", "NO"))
        for path, item in s4.get("probe_small", {}).items():
            if not path.startswith("/gbfs/"):
                continue
            big = s4.get("probe_large", {}).get(path, {})
            rows.append(
                (
                    f"S4 GBFS uncached {path.rsplit('/', 1)[-1]}",
                    f"build p50 {item['inprocess_p50_ms']} ms (10k bikes) → "
                    f"{big.get('inprocess_p50_ms')} ms (large), {item['bytes']} B",
                    "",
                    "",
                    "≤200ms at 10k",
                    ok(item["inprocess_p50_ms"] is not None and item["inprocess_p50_ms"] <= 200),
                )
            )
        seq = s4.get("explain_large_seq_scans")
        if seq is not None:
            # The full-fleet GBFS status feeds read every bike by design (a seq scan is the right plan for
            # a whole table) and are served from a ttl-window cache; the hot paths are the API pages.
            api = [item for item in seq if not item.startswith("/gbfs/")]
            feeds = [item for item in seq if item.startswith("/gbfs/")]
            at = res.get("data_large", {}).get("rentals")
            rows.append(
                (
                    f"S4 EXPLAIN API pages @{at} rentals",
                    f"seq scans on tables ≥{BIG_TABLE_ROWS} rows: " + (", ".join(api) or "none"),
                    "",
                    "",
                    "none",
                    ok(not api),
                )
            )
            rows.append(
                (
                    f"S4 EXPLAIN GBFS feeds @{at} rentals",
                    "full-fleet reads (cached per ttl window): " + (", ".join(feeds) or "no seq scan"),
                    "",
                    "",
                    "",
                    "-",
                )
            )
    return rows
