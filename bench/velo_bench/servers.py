"""The WSGI worker models compared, and swapping the stack's rentals-web for one of them."""

from __future__ import annotations

import functools
import os

from velo_bench.config import BENCH_VENV, QUICK, RENTALS_PORT, ROOT, RUN, STACK
from velo_bench.shell import Spawned, stack, wait_http


def rentals_env() -> dict:
    return dict(
        os.environ,
        DATABASE_URL=os.environ["RENTALS_DATABASE_URL"],
        DJANGO_SECRET_KEY=os.environ["RENTALS_DJANGO_SECRET_KEY"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        CONTRACTS_DIR=str(ROOT / "contracts"),
        RENTALS_STATIC_ROOT=str(RUN / "static" / "rentals"),
    )


# Worker models compared (same flags as scripts/stack.sh's web_up apart from the model itself; no access
# log anywhere: the service logs each request itself).
GUNICORN_COMMON = ["--max-requests", "20000", "--max-requests-jitter", "2000", "--graceful-timeout", "10"]


def _granian(app: str, port: int, *, workers: int, threads: int) -> list[str]:
    return [
        str(BENCH_VENV / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--no-ws",
        "--no-access-log",
        app,
    ]


MODELS = {
    "gunicorn-gthread-2x4": lambda app, port: [
        str(BENCH_VENV / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        "2",
        "--threads",
        "4",
        *GUNICORN_COMMON,
    ],
    "gunicorn-sync-4": lambda app, port: [
        str(BENCH_VENV / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "sync",
        "--workers",
        "4",
        *GUNICORN_COMMON,
    ],
    **{
        f"granian-{workers}x{threads}": functools.partial(_granian, workers=workers, threads=threads)
        for workers, threads in ((2, 4), (2, 2), (4, 1))
    },
}
STACK_MODEL = "granian-2x4"  # what scripts/stack.sh runs (WEB_WORKERS=2, WEB_THREADS=4)


def models_available() -> list[str]:
    names = list(MODELS)
    if QUICK:
        names = [STACK_MODEL]
    return names


def swap_rentals_web(model: str | None, *, env: dict | None = None) -> Spawned | None:
    """Replace the stack's rentals-web by `model` on the same port (None: give it back to stack.sh);
    `env` overrides settings of the replacement."""
    stack("stop", "rentals-web", STACK)
    if model is None:
        stack("start", "rentals-web", STACK)
        wait_http(RENTALS_PORT, "/readyz")
        return None
    cmd = MODELS[model]("config.wsgi:application", RENTALS_PORT)
    proc = Spawned(
        f"rentals-{model}", cmd, cwd=ROOT / "services" / "rentals", env={**rentals_env(), **(env or {})}
    )
    try:
        wait_http(RENTALS_PORT, "/readyz", proc=proc)
    except Exception:
        proc.stop()
        raise
    return proc
