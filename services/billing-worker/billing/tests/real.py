"""Helpers for tests against the real broker / S3 / SMTP sink (env from .run/<stack>/env.sh)."""

from __future__ import annotations

import mailbox
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def require_env(*names: str):
    missing = [n for n in names if not os.environ.get(n)]
    return pytest.mark.skipif(
        bool(missing), reason=f"real boundary test: set {', '.join(missing)} (source .run/dev/env.sh)"
    )


def wait_until(
    predicate: Callable[[], object], *, timeout: float = 30, interval: float = 0.1, what: str = ""
):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def mails_to(address: str) -> list:
    """Messages for ``address`` in the SMTP sink's Maildir (MAIL_DIR)."""
    directory = Path(os.environ["MAIL_DIR"])
    if not directory.exists():
        return []
    box = mailbox.Maildir(directory, create=False)
    found = []
    for key in box.keys():  # noqa: SIM118  (Maildir is not a dict)
        try:
            message = box.get_message(key)
        except (FileNotFoundError, KeyError):
            continue
        if address in (message.get("To") or ""):
            found.append(message)
    return found
