"""The bench riders: registered and logged in through auth's API once, tokens cached."""

from __future__ import annotations

import json
import queue
import threading
import time

from velo_bench.client import Client
from velo_bench.config import AUTH_PORT, N_RIDERS, RIDER_PASSWORD, RUN

RIDERS_FILE = RUN / "bench-riders.json"


def ensure_riders() -> list[dict]:
    """N_RIDERS riders registered through auth's API; tokens cached (the bench stack issues 2 h tokens)."""
    cache = {}
    if RIDERS_FILE.exists():
        cache = json.loads(RIDERS_FILE.read_text())
    lock = threading.Lock()
    todo: queue.Queue[int] = queue.Queue()
    for i in range(N_RIDERS):
        todo.put(i)
    failures: list[str] = []

    def work() -> None:
        client = Client(AUTH_PORT)
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            email = f"loadtester{i}@velo.bench"
            entry = cache.get(email)
            if entry and entry.get("exp", 0) > time.time() + 1800:
                continue
            status, body, _ = client.request(
                "POST", "/api/auth/token", body={"email": email, "password": RIDER_PASSWORD}
            )
            if status == 401:
                rstatus, rbody, _ = client.request(
                    "POST",
                    "/api/auth/register",
                    body={"name": f"Load Tester {i}", "email": email, "password": RIDER_PASSWORD},
                )
                if rstatus != 201:
                    failures.append(f"register {email}: {rstatus} {rbody[:200]!r}")
                    continue
                status, body, _ = client.request(
                    "POST", "/api/auth/token", body={"email": email, "password": RIDER_PASSWORD}
                )
            if status != 200:
                failures.append(f"login {email}: {status} {body[:200]!r}")
                continue
            access = json.loads(body)["access"]
            claims = json.loads(_b64(access.split(".")[1]))
            with lock:
                cache[email] = {
                    "idx": i,
                    "user_id": claims["sub"],
                    "name": claims.get("name", ""),
                    "access": access,
                    "exp": claims["exp"],
                }

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    RIDERS_FILE.write_text(json.dumps(cache))
    RIDERS_FILE.chmod(0o600)
    if failures:
        raise RuntimeError("rider setup failed: " + "; ".join(failures[:5]))
    return sorted((dict(v, email=k) for k, v in cache.items() if v["idx"] < N_RIDERS), key=lambda r: r["idx"])


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
