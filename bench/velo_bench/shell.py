"""Subprocesses: commands, psql, scripts/stack.sh, spawned servers, waiting for a port."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import time
from pathlib import Path

from velo_bench.config import ROOT, RUN


def sh(cmd: list[str], *, env: dict | None = None, timeout: float = 600, check: bool = True, cwd=None) -> str:
    result = subprocess.run(
        cmd, env=env, timeout=timeout, capture_output=True, text=True, cwd=cwd, check=False
    )
    if check and result.returncode != 0:
        # Only the program name: arguments may hold a database URL with its password.
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def psql(sql: str | None = None, *, file: Path | None = None, variables: dict | None = None) -> str:
    cmd = ["psql", os.environ["RENTALS_DATABASE_URL"], "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
    for key, value in (variables or {}).items():
        cmd += ["-v", f"{key}={value}"]
    cmd += ["-f", str(file)] if file else ["-c", sql]
    return sh(cmd, timeout=1200)


def stack(*args: str, env_extra: dict | None = None) -> None:
    env = dict(os.environ, **(env_extra or {}))
    sh(["bash", str(ROOT / "scripts" / "stack.sh"), *args], env=env, timeout=300)


def pid_file(name: str) -> int | None:
    try:
        return int((RUN / "pids" / f"{name}.pid").read_text().strip())
    except (OSError, ValueError):
        return None


class Spawned:
    """A process (group) this benchmark started itself; stopped by its own pid only."""

    def __init__(self, name: str, cmd: list[str], *, cwd: Path, env: dict):
        self.name = name
        self.log_path = RUN / "logs" / f"bench-{name}.log"
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log_file.close()


def wait_http(port: int, path: str, timeout: float = 60, proc: Spawned | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited (see {proc.log_path})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"127.0.0.1:{port}{path} not answering 200 after {timeout}s")


def free_port(first: int) -> int:
    """The first port from `first` on that nobody listens on (another session may hold one)."""
    import socket

    for port in range(first, first + 9):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError(f"no free port in {first}..{first + 8}")
