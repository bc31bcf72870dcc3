"""The long-running commands exit cleanly on SIGTERM, even while the broker is unreachable."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", ["outbox_relay", "consume_events"])
def test_sigterm_stops_the_command(command):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # Unreachable broker: the process sits in its reconnect loop and never touches the database.
        "AMQP_URL": "amqp://guest:guest@127.0.0.1:1/%2F",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", command],
        cwd=SERVICE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    retrying = threading.Event()
    lines: list[str] = []

    def read():
        for line in process.stdout:
            lines.append(line)
            if "broker unavailable" in line:
                retrying.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # Startup can take seconds on a busy 2-core machine; wait for the reconnect loop itself.
        assert retrying.wait(timeout=60), "".join(lines)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
