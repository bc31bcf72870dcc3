"""Scenario 8: the MDS Provider API at scale (issue 25).

1. 1 000 000 vehicle events and 100 000 trips (bench/sql/seed_mds.sql, `INSERT … SELECT generate_series`, then
   ANALYZE) over one week; an hour's trips and an hour's events are asked for through the gateway with an
   agency token, each hour once (MDS answers are never cached by the service; PostgreSQL's buffers are warm,
   the data set fits in memory), and the plans of the two hourly queries are recorded.
2. The vehicle log's share of the rent→finish CPU: pgbench with the service's statements
   (bench/pgbench/rent_finish.sql) with and without the vehicle-event INSERTs, interleaved, counting the CPU
   of every PostgreSQL process of the stack per cycle; and the in-process experiment
   (experiments/vehicle_log_cost.py, whole Django views without the network) for the application's share.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import statistics
import uuid

from velo_bench.client import Client
from velo_bench.common import log, ms, pct
from velo_bench.config import BENCH, GATEWAY_PORT, QUICK, RENTALS_VENV, ROOT, RUN, SMALL_BIKES
from velo_bench.rows import Baseline, Row, ok
from velo_bench.shell import psql, sh

MDS_TRIPS = 10_000 if QUICK else 100_000
MDS_EVENTS = 100_000 if QUICK else 1_000_000
MDS_DAYS = 7
MDS_START = "2026-11-10 00:00:00+00"
MDS_HOURS = 6 if QUICK else 24  # distinct hours asked for, spread over the week
ACCEPT = {"Accept": "application/vnd.mds+json;version=2.0"}
TICKS = os.sysconf("SC_CLK_TCK")


def agency_token() -> str:
    """An agency client made through auth's admin API (the bench stack's ADMIN_EMAIL) and its token."""
    client = Client(GATEWAY_PORT)
    status, body, _ = client.request(
        "POST",
        "/api/auth/token",
        body={"email": os.environ["ADMIN_EMAIL"], "password": os.environ["ADMIN_PASSWORD"]},
    )
    if status != 200:
        raise RuntimeError(f"admin login failed ({status}): {body[:200]!r}")
    admin = json.loads(body)["access"]
    status, body, _ = client.request(
        "POST", "/api/auth/agencies", body={"name": f"Bench city {uuid.uuid4().hex[:8]}"}, token=admin
    )
    if status != 201:
        raise RuntimeError(f"agency client not created ({status}): {body[:200]!r}")
    created = json.loads(body)
    status, body, _ = client.request(
        "POST",
        "/api/auth/token/agency",
        body={"client_id": created["id"], "client_secret": created["client_secret"]},
    )
    if status != 200:
        raise RuntimeError(f"agency token refused ({status}): {body[:200]!r}")
    return json.loads(body)["access"]


def seed_mds() -> dict:
    psql(
        file=BENCH / "sql" / "seed_mds.sql",
        variables={
            "trips": MDS_TRIPS,
            "events": MDS_EVENTS,
            "days": MDS_DAYS,
            "start": MDS_START,
            "nbikes": SMALL_BIKES,
        },
    )
    psql("ANALYZE rentals_rental; ANALYZE vehicle_events_vehicleevent")
    counts = psql(
        "SELECT (SELECT count(*) FROM vehicle_events_vehicleevent), "
        f"(SELECT count(*) FROM rentals_rental WHERE status = 'finished' AND ended_at >= '{MDS_START}' "
        f"AND ended_at < timestamptz '{MDS_START}' + interval '{MDS_DAYS} days')"
    ).strip()
    events, trips = (int(x) for x in counts.split("|"))
    return {"events_in_log": events, "trips_in_week": trips}


def _hours() -> list[str]:
    """MDS_HOURS distinct hours spread over the seeded week."""
    step = MDS_DAYS * 24 // MDS_HOURS
    start = dt.datetime.fromisoformat(MDS_START)
    return [(start + dt.timedelta(hours=3 + i * step)).strftime("%Y-%m-%dT%H") for i in range(MDS_HOURS)]


def _hourly(path: str, param: str, key: str, token: str) -> dict:
    client = Client(GATEWAY_PORT)
    times, rows, statuses = [], [], {}
    for hour in _hours():
        status, body, took = client.request("GET", f"{path}?{param}={hour}", token=token, headers=ACCEPT)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            times.append(took)
            rows.append(len(json.loads(body)[key]))
    return {
        "path": path,
        "hours": len(times),
        "rows_per_hour_mean": round(statistics.fmean(rows)) if rows else None,
        "bytes_last": len(body),
        "p50_ms": ms(pct(times, 50)),
        "p95_ms": ms(pct(times, 95)),
        "max_ms": ms(max(times)) if times else None,
        "statuses": statuses,
    }


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _explain(sql: str) -> dict:
    plan = json.loads(psql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql))[0]
    nodes = list(_nodes(plan["Plan"]))
    return {
        "execution_ms": round(plan["Execution Time"], 2),
        "indexes": sorted({n["Index Name"] for n in nodes if "Index Name" in n}),
        "seq_scans": sorted({n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"}),
    }


def explain_hourly() -> dict:
    hour = _hours()[len(_hours()) // 2]
    start = f"timestamptz '{hour.replace('T', ' ')}:00:00+00'"
    return {
        "trips": _explain(
            "SELECT * FROM rentals_rental WHERE status = 'finished' "
            f"AND ended_at >= {start} AND ended_at < {start} + interval '1 hour' ORDER BY ended_at, id"
        ),
        "events_of_trips": _explain(
            "SELECT e.* FROM vehicle_events_vehicleevent e WHERE e.trip_id IN (SELECT id FROM rentals_rental "
            f"WHERE status = 'finished' AND ended_at >= {start} AND ended_at < {start} + interval '1 hour')"
        ),
        "events": _explain(
            "SELECT * FROM vehicle_events_vehicleevent "
            f'WHERE "timestamp" >= {start} AND "timestamp" < {start} + interval \'1 hour\' '
            'ORDER BY "timestamp", event_id'
        ),
    }


# ------------------------------------------------------------------------------------ the log's CPU share


def _postgres_cpu() -> float:
    """CPU seconds of the stack's PostgreSQL so far: the postmaster with its exited children, and the
    live children (the bench's backends exit when pgbench ends; the postmaster reaps them)."""
    postmaster = int((RUN / "pg" / "postmaster.pid").read_text().split()[0])

    def stat(pid: int) -> list[str]:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()

    fields = stat(postmaster)
    total = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    children = sh(["ps", "-o", "pid=", "--ppid", str(postmaster)], check=False).split()
    for pid in children:
        try:
            fields = stat(int(pid))
        except (OSError, ValueError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def _pgbench(*, vehicle_log: int, clients: int, seconds: int) -> tuple[float, int]:
    from velo_bench.ceilings import pgbench_rent_finish

    text = pgbench_rent_finish(clients=clients, seconds=seconds, vehicle_log=vehicle_log)
    tps = float(re.search(r"tps = ([\d.]+) \(without initial", text).group(1))
    cycles = int(re.search(r"number of transactions actually processed: (\d+)", text).group(1))
    return tps, cycles


def log_share_pgbench() -> dict:
    """Interleaved runs with and without the vehicle-event INSERTs; PostgreSQL CPU per rent→finish cycle."""
    clients, seconds, rounds = 8, (4 if QUICK else 10), (1 if QUICK else 3)
    totals = {1: [0.0, 0, []], 0: [0.0, 0, []]}
    for _ in range(rounds):
        for vehicle_log in (1, 0):
            before = _postgres_cpu()
            tps, cycles = _pgbench(vehicle_log=vehicle_log, clients=clients, seconds=seconds)
            totals[vehicle_log][0] += _postgres_cpu() - before
            totals[vehicle_log][1] += cycles
            totals[vehicle_log][2].append(tps)
    per = {key: 1000 * cpu / cycles for key, (cpu, cycles, _) in totals.items()}
    return {
        "clients": clients,
        "seconds_per_run": seconds,
        "rounds": rounds,
        "with_log": {"db_cpu_ms_per_cycle": round(per[1], 3), "cycles_per_s": totals[1][2]},
        "without_log": {"db_cpu_ms_per_cycle": round(per[0], 3), "cycles_per_s": totals[0][2]},
        # What the log adds to a cycle's database CPU (the measure), and its part of the whole.
        "db_adds_pct": round(100 * (per[1] / per[0] - 1), 1),
        "db_share_pct": round(100 * (per[1] - per[0]) / per[1], 1),
    }


def log_share_inprocess() -> dict:
    """experiments/vehicle_log_cost.py through Django's views (app + its backend CPU per cycle)."""
    cycles = 200 if QUICK else 1000
    text = sh(
        [
            str(RENTALS_VENV / "python"),
            str(BENCH / "velo_bench" / "experiments" / "vehicle_log_cost.py"),
            str(cycles),
            "http",
        ],
        env={
            **os.environ,
            "DATABASE_URL": os.environ["RENTALS_DATABASE_URL"],
            "PYTHONPATH": str(ROOT / "services" / "rentals"),
        },
        cwd=ROOT / "services" / "rentals",
        timeout=1200,
    )
    out: dict = {"cycles_each": cycles}
    for label in ("with log", "without log"):
        found = re.search(rf"{label}\s+\d+ cycles: app ([\d.]+) ms \+ db ([\d.]+) ms = ([\d.]+) ms", text)
        if found:
            out[label.replace(" ", "_")] = {
                "app_ms": float(found.group(1)),
                "db_ms": float(found.group(2)),
                "cpu_ms_per_cycle": float(found.group(3)),
            }
    found = re.search(r"the log adds ([-\d.]+) % CPU", text)
    out["share_pct"] = float(found.group(1)) if found else None
    return out


def scenario8(out: dict) -> dict:
    """Fills `out` as it goes, so what was measured survives a later failure."""
    out["seeded"] = {"trips": MDS_TRIPS, "events": MDS_EVENTS, "days": MDS_DAYS, "from": MDS_START}
    log(f"  seeding {MDS_EVENTS} vehicle events and {MDS_TRIPS} trips")
    out["data"] = seed_mds()
    token = agency_token()
    out["trips_hour"] = _hourly("/mds/trips", "end_time", "trips", token)
    out["events_hour"] = _hourly("/mds/events/historical", "event_time", "events", token)
    out["explain"] = explain_hourly()
    log(f"  hourly: trips {out['trips_hour']}, events {out['events_hour']}")
    out["log_share_pgbench"] = log_share_pgbench()
    log(f"  log share (pgbench): {out['log_share_pgbench']}")
    out["log_share_inprocess"] = log_share_inprocess()
    log(f"  log share (in-process, views): {out['log_share_inprocess']}")
    return out


def report_rows(res: dict, base: Baseline) -> list[Row]:
    rows: list[Row] = []
    s8 = res["scenarios"].get("s8")
    if not s8:
        return rows
    data = s8["data"]
    for key, label in (("trips_hour", "trips"), ("events_hour", "events/historical")):
        item = s8[key]
        rows.append(
            (
                f"S8 MDS an hour's {label} ({data['events_in_log']} events, {data['trips_in_week']} trips in "
                f"the week; {item['rows_per_hour_mean']} per hour)",
                f"{item['hours']} hours: p50 {item['p50_ms']} p95 {item['p95_ms']} max {item['max_ms']} ms",
                "",
                "",
                "≤500ms",
                ok(item["max_ms"] is not None and item["max_ms"] <= 500),
            )
        )
    pg = s8["log_share_pgbench"]
    rows.append(
        (
            "S8 vehicle log: added rent→finish DB CPU (pgbench)",
            f"+{pg['db_adds_pct']} % ({pg['with_log']['db_cpu_ms_per_cycle']} vs "
            f"{pg['without_log']['db_cpu_ms_per_cycle']} ms per cycle)",
            "",
            "",
            "≤10%",
            ok(pg["db_adds_pct"] <= 10),
        )
    )
    inproc = s8.get("log_share_inprocess", {})
    if inproc.get("share_pct") is not None:
        rows.append(
            (
                "S8 vehicle log: added rent→finish CPU (views + DB, in-process)",
                f"+{inproc['share_pct']} % over {inproc['cycles_each']} cycles each",
                "",
                "",
                "≤10%",
                ok(inproc["share_pct"] <= 10),
            )
        )
    return rows
