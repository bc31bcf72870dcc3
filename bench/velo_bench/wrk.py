"""wrk runs and their JSON summary (bench/wrk/report.lua)."""

from __future__ import annotations

import json
import os

from velo_bench.common import log
from velo_bench.config import BENCH, WRK_SECONDS
from velo_bench.shell import sh


def wrk(
    url: str,
    *,
    clients: int,
    seconds: float = WRK_SECONDS,
    token: str | None = None,
    paths: list[str] | None = None,
) -> dict:
    """`paths`: go round these paths on the host of `url` (bench/wrk/alternate.lua)."""
    env = dict(os.environ, WRK_TOKEN=token or "", WRK_PATHS=",".join(paths or []))
    threads = min(2, clients)
    out = sh(
        [
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(BENCH / "wrk" / ("alternate.lua" if paths else "report.lua")),
            url,
        ],
        env=env,
        timeout=seconds + 60,
    )
    line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {out[-500:]}")
    raw = json.loads(line[len("WRKJSON ") :])
    if raw["status_errors"]:
        log(f"  WARNING: {raw['status_errors']} of {raw['requests']} answers from {url} were not 2xx/3xx")
    seconds_run = raw["duration_us"] / 1e6
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    return {
        "clients": clients,
        "seconds": round(seconds_run, 2),
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "non_2xx_3xx": raw["status_errors"],
        "socket_errors": errors,
    }
