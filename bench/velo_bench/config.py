"""Settings of a run: the stack, its ports, durations and sizes (BENCH_QUICK), BENCH_ONLY."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent.parent
BENCH = ROOT / "bench"
STACK = os.environ.get("BENCH_STACK", "bench")  # scripts/stack.sh stack the bench runs on
RUN = ROOT / ".run" / STACK
QUICK = os.environ.get("BENCH_QUICK", "") == "1"
RENTALS_VENV = ROOT / "services" / "rentals" / ".venv" / "bin"
BENCH_VENV = BENCH / ".venv" / "bin"

GATEWAY_PORT = int(os.environ.get("GATEWAY_PORT", "0"))
AUTH_PORT = int(os.environ.get("AUTH_PORT", "0"))
RENTALS_PORT = int(os.environ.get("RENTALS_PORT", "0"))
PG_PORT = int(os.environ.get("PG_PORT", "0"))
NGINX_CEILING_PORT = 8290
BARE_PORT = 8281
RIDER_PASSWORD = "Pedal!Quartz-7731-Ovo"
N_RIDERS = 64
STATIONS = 1000

# Durations (seconds) and sizes; BENCH_QUICK=1 keeps the whole run under ~2 minutes.
WRK_SECONDS = 3 if QUICK else 8
S2_SECONDS = 4 if QUICK else 15
S3_SECONDS = 8 if QUICK else 60
S3_RATE = 50
BACKLOG = 1000 if QUICK else 10_000
SMALL_RENTALS = 10_000
LARGE_RENTALS = 100_000 if QUICK else 1_000_000
SMALL_BIKES = 10_000
LARGE_BIKES = 20_000 if QUICK else 100_000
S4_SAMPLES = 40 if QUICK else 200
S1_CLIENTS = [32] if QUICK else [8, 32, 128]
# BENCH_ONLY=ceilings,s1,s5,s2,s6,s3,s4,s7,s8,s9 runs a subset (to iterate on one part; the default runs all).
ONLY = {p for p in os.environ.get("BENCH_ONLY", "").split(",") if p}


def wanted(phase: str) -> bool:
    return not ONLY or phase in ONLY
