"""What a result records about the machine and the checkout."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

from velo_bench.config import ROOT
from velo_bench.shell import sh


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
    }


def git_rev() -> dict:
    rev = sh(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=False).strip()
    dirty = bool(
        sh(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], check=False).strip()
    )
    changed = sh(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "services", "gateway", "scripts"], check=False
    )
    return {"revision": rev, "dirty": dirty, "uncommitted_service_files": changed.splitlines()[:50]}
