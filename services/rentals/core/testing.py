"""Test helpers shared by the apps' race tests."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(calls: list[Callable[[], Any]], *, timeout: float = 60) -> list[Any]:
    """Run every call in its own thread (its own database connection), released together by a barrier.
    Returns each call's result, or the exception it raised, in the order of `calls`."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
