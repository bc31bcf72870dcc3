"""Small shared helpers: logging, percentiles, units, the seeds' deterministic ids."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import uuid


def log(msg: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def uid(prefix: str, n: int) -> str:
    """The deterministic ids of sql/seed_*.sql: md5(prefix || n)::uuid."""
    return str(uuid.UUID(hex=hashlib.md5(f"{prefix}{n}".encode()).hexdigest()))
