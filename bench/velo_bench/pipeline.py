"""The billing pipeline's queues: depth via rabbitmqctl, waiting for billing to go idle."""

from __future__ import annotations

import os
import time

from velo_bench.common import log
from velo_bench.config import RUN, STACK
from velo_bench.shell import sh


def rabbit_queue(name: str) -> tuple[int, int, int] | None:
    """(ready, unacked, consumers) of a queue on the bench node, via rabbitmqctl like scripts/stack.sh."""
    home = RUN / "rabbitmq"
    env = dict(
        os.environ,
        HOME=str(home / "home"),
        RABBITMQ_NODENAME=f"velo-{STACK}@localhost",
        ERL_EPMD_PORT=str(4369 + int(os.environ["AMQP_PORT"]) - 5673),  # the stack's port offset
        RABBITMQ_CONFIG_FILE=str(home / "rabbitmq"),
        RABBITMQ_MNESIA_BASE=str(home / "mnesia"),
        RABBITMQ_LOG_BASE=str(home / "log"),
        RABBITMQ_ENABLED_PLUGINS_FILE=str(home / "enabled_plugins"),
    )
    out = sh(
        [
            "/usr/lib/rabbitmq/bin/rabbitmqctl",
            "-n",
            f"velo-{STACK}@localhost",
            "-q",
            "list_queues",
            "name",
            "messages_ready",
            "messages_unacknowledged",
            "consumers",
        ],
        env=env,
        timeout=60,
        check=False,
    )
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == name:
            return int(parts[1]), int(parts[2]), int(parts[3])
    return None


def wait_billing_idle(seconds: float) -> bool:
    """Wait until both billing queues are empty (a previous partial drain finishes first)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        states = [rabbit_queue(q) for q in ("billing.rental-finished", "billing.tasks")]
        if all(st is not None and st[0] + st[1] == 0 for st in states):
            return True
        time.sleep(3)
    log("  billing queues still not empty")
    return False
