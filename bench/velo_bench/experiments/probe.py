"""In-process probe of the rentals service (bench only): for each GET path, the exact SQL it runs and
its in-process time over N calls. Run with the rentals venv and settings, cwd services/rentals:
    PYTHONPATH=. .venv/bin/python ../../bench/experiments/probe.py TOKEN N PATH...
A path ending in "+next" is probed and then its `next` page too. With GBFS_CACHE=off in the environment
the GBFS timings are the uncached build cost. The SQL comes from Django's own query log (psycopg2
interpolates the parameters), so EXPLAIN sees the service's real statements.
"""

import json
import sys
import time
from urllib.parse import urlsplit

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def probe(client: Client, token: str, path: str, n: int) -> tuple[dict, str | None]:
    auth = {} if path.startswith("/gbfs/") else {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **auth)
    # Read the log now: Django clears it when the next request starts.
    sql = [q["sql"] for q in ctx.captured_queries]
    times = []
    budget = time.perf_counter() + 8  # at most ~8 s per path however slow it is
    for _ in range(n):
        start = time.perf_counter()
        client.get(path, **auth)
        times.append(time.perf_counter() - start)
        if start > budget:
            break
    times.sort()
    nxt = None
    if response.status_code == 200 and response.get("Content-Type", "").startswith("application/json"):
        body = json.loads(response.content)
        if isinstance(body, dict) and body.get("next"):
            parts = urlsplit(body["next"])
            nxt = parts.path + ("?" + parts.query if parts.query else "")
    return {
        "status": response.status_code,
        "bytes": len(response.content),
        "sql": sql,
        "inprocess_p50_ms": round(times[len(times) // 2] * 1000, 2) if times else None,
        "inprocess_max_ms": round(times[-1] * 1000, 2) if times else None,
    }, nxt


def main() -> None:
    token, n, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    client = Client(HTTP_HOST="127.0.0.1")
    out = {}
    for spec in paths:
        path, follow = (spec[:-5], True) if spec.endswith("+next") else (spec, False)
        out[path], nxt = probe(client, token, path, n)
        if follow and nxt:
            out[path + " (page 2)"], _ = probe(client, token, nxt, n)
    print(json.dumps(out))


main()
