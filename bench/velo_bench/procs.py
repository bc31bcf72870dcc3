"""Per-process measurements: RSS sampling and CPU seconds of the stack's process groups."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from velo_bench.rows import Baseline, Row, ok
from velo_bench.shell import pid_file


class RssSampler:
    """Samples the RSS of every process in the given process groups (ps), keeps each one's maximum."""

    def __init__(self, groups: dict[str, int]):
        self.groups = {pgid: name for name, pgid in groups.items() if pgid}
        self.max_rss: dict[str, dict[int, int]] = {name: {} for name in groups}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            out = subprocess.run(["ps", "-eo", "pid=,pgid=,rss="], capture_output=True, text=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) != 3:
                    continue
                pid, pgid, rss = (int(x) for x in parts)
                name = self.groups.get(pgid)
                if name:
                    seen = self.max_rss[name]
                    seen[pid] = max(seen.get(pid, 0), rss)
            self._stop.wait(0.5)

    def summary(self) -> dict:
        return {
            name: {
                "processes": len(pids),
                "max_rss_mb": round(max(pids.values()) / 1024, 1) if pids else None,
            }
            for name, pids in self.max_rss.items()
        }


def merge_rss(into: dict, summary: dict) -> None:
    for name, item in summary.items():
        if item["max_rss_mb"] is None:
            continue
        cur = into.get(name)
        if cur is None or item["max_rss_mb"] > cur["max_rss_mb"]:
            into[name] = item


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(names: tuple[str, ...]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each named stack process with everything below it: live
    descendants plus the children it has reaped. Differences of two calls are CPU used in between, as long
    as the process was not restarted."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (fields := _proc_stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out = {}
    for name in names:
        root = pid_file(name)
        if root is None or (fields := _proc_stat(root)) is None:
            continue
        ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        todo = list(children.get(root, []))
        while todo:
            pid = todo.pop()
            if stat := _proc_stat(pid):
                ticks += int(stat[11]) + int(stat[12])
            todo.extend(children.get(pid, []))
        out[name] = ticks / CLOCK_TICKS
    return out


PIPELINE_PROCESSES = (
    "billing-worker",
    "rentals-consumer",
    "rentals-relay",
    "rabbitmq",
    "seaweedfs",
    "postgres",
    "smtp",
    "rentals-web",
    "gateway",
)


def stack_groups() -> dict[str, int]:
    return {name: pid_file(name) for name in ("rentals-web", "auth-web", "gateway")}


def report_rows(res: dict, base: Baseline) -> list[Row]:
    """The RSS rows in the result table."""
    rows: list[Row] = []
    for name, item in sorted(res.get("rss", {}).items()):
        limit = name in ("rentals-web", "auth-web")
        rows.append(
            (
                f"RSS {name}",
                f"max {item['max_rss_mb']} MB/process ({item['processes']} procs)",
                "",
                "",
                "≤150MB" if limit else "",
                ok(item["max_rss_mb"] <= 150) if limit else "-",
            )
        )
    return rows
