"""Scenario 3: billing lag under an open loop, and the worker's drain of a backlog."""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path

from velo_bench.client import Client
from velo_bench.common import log
from velo_bench.config import BACKLOG, BENCH, GATEWAY_PORT, N_RIDERS, QUICK, S3_RATE, S3_SECONDS, STACK
from velo_bench.cycles import CycleStats, one_cycle, summarize_cycles
from velo_bench.pipeline import rabbit_queue, wait_billing_idle
from velo_bench.procs import PIPELINE_PROCESSES, cpu_seconds
from velo_bench.rows import Baseline, Row, ok
from velo_bench.shell import psql, stack


def wait_billed(rental_ids: list[str], timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = int(
            psql(
                f"SELECT count(*) FROM rentals_rental WHERE id = ANY('{{{','.join(rental_ids)}}}'::uuid[]) "
                "AND invoice_id IS NULL"
            ).strip()
        )
        if left == 0:
            return
        time.sleep(1)


def lag_stats(rental_ids: list[str]) -> dict:
    ids = "{" + ",".join(rental_ids) + "}"
    row = (
        psql(
            "SELECT count(*), count(billed_at), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM billed_at - ended_at)), "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM billed_at - ended_at)), "
            "max(extract(epoch FROM billed_at - ended_at)) "
            f"FROM rentals_rental WHERE id = ANY('{ids}'::uuid[])"
        )
        .strip()
        .split("|")
    )
    total, billed = int(row[0]), int(row[1])
    f = lambda v: round(float(v) * 1000, 1) if v else None  # noqa: E731
    return {
        "finished": total,
        "billed": billed,
        "unbilled": total - billed,
        "lag_p50_ms": f(row[2]),
        "lag_p95_ms": f(row[3]),
        "lag_max_ms": f(row[4]),
    }


def scenario3_lag(riders: list[dict]) -> dict:
    """Open loop: a rent+finish cycle started every 1/S3_RATE s for S3_SECONDS; lag = billed_at - ended_at."""
    wait_billing_idle(120)
    stats = CycleStats()
    free: queue.Queue[dict] = queue.Queue()
    for r in riders:
        free.put(r)
    jobs: queue.Queue[float | None] = queue.Queue()
    # Enough clients that a cycle starts when due even while earlier ones wait on a saturated machine
    # (32 started 47 of the 50/s when cycles took ~0.6 s); each needs its own rider (one active rental).
    n_threads = min(64, len(riders))

    def worker() -> None:
        client = Client(GATEWAY_PORT)
        while True:
            job = jobs.get()
            if job is None:
                return
            rider = free.get()
            try:
                one_cycle(client, rider, stats)
            finally:
                free.put(rider)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    total = int(S3_SECONDS * S3_RATE)
    for i in range(total):
        due = start + i / S3_RATE
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        jobs.put(due)
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    ids = [rid for rid, _ in stats.finished]
    wait_billed(ids, timeout=30 if QUICK else 60)
    out = summarize_cycles(stats, elapsed)
    out.update(target_finishes_per_s=S3_RATE, achieved_finishes_per_s=round(stats.cycles / elapsed, 1))
    out.update(lag_stats(ids))
    return out


def scenario3_backlog() -> dict:
    """Stop the billing worker, queue BACKLOG rental.finished events, start it, time the drain.

    The rate that counts is invoices issued and applied: billed_at of the backlog rentals (marked by
    duration_seconds = 900, see seed_backlog.sql), first to last. Receipts are their own task queued behind
    the invoices, so the receipts arriving in the SMTP sink's Maildir are reported apart (receipts/s).
    """
    queues = ("billing.rental-finished", "billing.tasks")

    def depth() -> int | None:
        states = [rabbit_queue(q) for q in queues]
        if any(st is None for st in states):
            return None
        return sum(st[0] + st[1] for st in states)

    wait_billing_idle(120)
    stack("stop", "billing-worker", STACK)
    try:
        psql(file=BENCH / "sql" / "seed_backlog.sql", variables={"count": BACKLOG, "registered": N_RIDERS})
        deadline = time.time() + 180
        while time.time() < deadline:
            state = rabbit_queue(queues[0])
            if state and state[0] >= BACKLOG:
                break
            time.sleep(1)
        queued = depth()
        log(f"  backlog queued: {queued}")
    finally:
        stack("start", "billing-worker", STACK)
    t0 = time.time()
    cpu0 = cpu_seconds(PIPELINE_PROCESSES)
    mail_dir = Path(os.environ["MAIL_DIR"]) / "new"

    def mails() -> int:
        return sum(1 for _ in os.scandir(mail_dir))

    mails0 = mails()
    samples = []
    first = last = None  # (time, receipts) of the first and latest progress seen
    limit = time.time() + (90 if QUICK else 150)  # a drain that takes longer reports its partial rate
    while time.time() < limit:
        now, done = time.time(), mails() - mails0
        # rabbitmqctl boots an Erlang VM (seconds of CPU on a 2-core box): queue depth at the start only.
        left = depth() if not samples else None
        samples.append((round(now - t0, 1), done, left))
        if done > 0 and first is None:
            first = (now, done)
        if first is not None and (last is None or done > last[1]):
            last = (now, done)
        if done >= BACKLOG:
            break
        time.sleep(1)
    drained = last is not None and last[1] >= BACKLOG
    billed_wait = time.time() + (90 if drained else 10)
    row = ""
    while time.time() < billed_wait:
        row = psql(
            "SELECT count(*), count(billed_at), extract(epoch FROM max(billed_at) - min(billed_at)), "
            "extract(epoch FROM max(billed_at)) FROM rentals_rental WHERE duration_seconds = 900"
        ).strip()
        total, billed = (int(x) for x in row.split("|")[:2])
        if billed >= total:
            break
        time.sleep(1)
    cpu1 = cpu_seconds(PIPELINE_PROCESSES)
    total_s, billed_s, span_s, last_s = row.split("|")
    billed = int(billed_s)
    # CPU per invoice by process over the drain (worker start to the last invoice applied and polled):
    # where the 2 cores go when the pipeline runs flat out.
    cpu_ms = {
        name: round(1000 * (cpu1[name] - cpu0[name]) / billed, 2)
        for name in cpu1
        if name in cpu0 and billed and cpu1[name] >= cpu0[name]
    }
    rate = None
    if first and last and last[0] > first[0]:
        rate = round((last[1] - first[1]) / (last[0] - first[0]), 1)
    # The next drain's rentals must be told apart from these. A drain cut off by the time limit still has
    # invoices being applied (rows locked in the consumer's order): a deadlock here is retried.
    for attempt in range(5):
        try:
            psql("UPDATE rentals_rental SET duration_seconds = 901 WHERE duration_seconds = 900")
            break
        except RuntimeError as exc:
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
            time.sleep(1)
    return {
        "backlog": BACKLOG,
        "worker_concurrency": os.environ.get("BILLING_CONCURRENCY") or "stack default",
        "queued_before_start": queued,
        "drained": drained,
        "worker_invoices_per_s": rate,
        "receipts_sent": last[1] if last else 0,
        "worker_startup_seconds": round(first[0] - t0, 1) if first else None,
        "worker_drain_seconds": round(last[0] - first[0], 1) if first and last else None,
        "billed": billed,
        "of": int(total_s),
        "end_to_end_billed_per_s": round(billed / float(span_s), 1) if span_s and float(span_s) > 0 else None,
        "end_to_end_seconds_from_worker_start": round(float(last_s) - t0, 1) if last_s else None,
        "samples": samples[:: max(1, len(samples) // 40)],
        "cpu_ms_per_invoice": cpu_ms,
        "cpu_ms_per_invoice_total": round(sum(cpu_ms.values()), 1),
    }


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The rows of S3 in the result table."""
    rows: list[Row] = []
    s3 = res["scenarios"].get("s3")
    if s3:
        lag = s3["lag"]
        rows.append(
            (
                "S3 billing lag @50/s",
                f"p50 {lag['lag_p50_ms']} p95 {lag['lag_p95_ms']} max {lag['lag_max_ms']} ms "
                f"({lag['achieved_finishes_per_s']}/s, unbilled {lag['unbilled']})",
                "",
                "",
                "p95≤1000ms",
                ok(lag["lag_p95_ms"] is not None and lag["lag_p95_ms"] <= 1000 and lag["unbilled"] == 0),
            )
        )
        bl = s3["backlog"]
        rows.append(
            (
                f"S3 worker drain {bl['backlog']}",
                f"{bl['end_to_end_billed_per_s']} invoices/s issued and applied in rentals "
                f"({bl['billed']}/{bl['of']}); receipts {bl['worker_invoices_per_s']}/s",
                "",
                "",
                "≥200/s",
                ok(
                    bl["end_to_end_billed_per_s"] is not None
                    and bl["end_to_end_billed_per_s"] >= 200
                    and bl["billed"] >= bl["of"]
                ),
            )
        )
        if bl.get("cpu_ms_per_invoice"):
            parts = sorted(bl["cpu_ms_per_invoice"].items(), key=lambda item: -item[1])
            rows.append(
                (
                    "S3 drain CPU per invoice",
                    f"{bl['cpu_ms_per_invoice_total']} ms: "
                    + ", ".join(f"{name} {value}" for name, value in parts if value >= 0.05),
                    "",
                    "",
                    "",
                    "-",
                )
            )
    return rows
