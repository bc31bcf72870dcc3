"""The gateway's forwarded headers, checked against a real nginx and an upstream that echoes what it got.

Renders gateway/nginx.conf twice (TRUSTED_PROXIES empty, then naming the loopback peer), sends a request
that claims another client, scheme and host, and checks what reaches the upstream:
- untrusted peer: X-Real-IP and X-Forwarded-For are the peer itself, the scheme is the gateway's own (http)
  and the host is the request's Host header (port included: links need it); the client's claims are dropped;
- trusted peer: the client named in X-Forwarded-For becomes X-Real-IP, its https and host are passed on.
Also: a malformed TRUSTED_PROXIES entry fails the render, and the admin UI is routed only when enabled.

usage: check_forwarded.py <repo-root>   (needs nginx and envsubst; exit 1 with one line per failure)
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path


class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({k.lower(): v for k, v in self.headers.items()} | {"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render(root: Path, prefix: Path, port: int, upstream: int, **extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(
        GATEWAY_LISTEN=f"127.0.0.1:{port}",
        AUTH_UPSTREAM=f"127.0.0.1:{upstream}",
        RENTALS_UPSTREAM=f"127.0.0.1:{upstream}",
        NOTIFIER_UPSTREAM=f"127.0.0.1:{upstream}",
        AUTH_TOKEN_RATE="60r/m",
        AUTH_TOKEN_BURST="30",
        CORS_ALLOWED_ORIGINS_REGEX=r"^https://app\.example$",
        ADMIN_UI_ENABLED="false",
        TRUSTED_PROXIES="",
        CONSOLE_ROOT=str(root / "console" / "public"),
        CONSOLE_TILE_URL="",
    )
    env.update(extra)
    return subprocess.run(
        ["sh", str(root / "gateway/render.sh"), str(root / "gateway/nginx.conf"), str(prefix)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def with_gateway(root: Path, upstream: int, check, **extra: str) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        prefix, port = Path(tmp), free_port()
        rendered = render(root, prefix, port, upstream, **extra)
        if rendered.returncode != 0:
            return [f"render failed with {extra}: {rendered.stderr.strip()}"]
        nginx = subprocess.Popen(
            [
                "nginx",
                "-p",
                f"{prefix}/",
                "-c",
                str(prefix / "nginx.conf"),
                "-e",
                str(prefix / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(50):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            return check(port)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


CLAIMS = {
    "Host": "velo.test:8443",
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
}


def untrusted(port: int) -> list[str]:
    status, seen = get(port, "/api/bikes", CLAIMS)
    expected = {
        "x-real-ip": "127.0.0.1",
        "x-forwarded-for": "127.0.0.1",
        "x-forwarded-proto": "http",
        "x-forwarded-host": "velo.test:8443",
    }
    problems = [
        f"untrusted peer: {k} = {seen.get(k)!r}, expected {v!r}"
        for k, v in expected.items()
        if seen.get(k) != v
    ]
    admin, _ = get(port, "/api/auth/admin/login/", {"Host": "velo.test"})
    if admin != 404:
        problems.append(f"admin login routed with ADMIN_UI_ENABLED=false: {admin}")
    return problems if status == 200 else [f"untrusted peer: status {status}"]


def trusted(port: int) -> list[str]:
    status, seen = get(port, "/api/bikes", CLAIMS)
    expected = {
        "x-real-ip": "203.0.113.9",
        "x-forwarded-for": "203.0.113.9, 127.0.0.1",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "evil.example",
    }
    problems = [
        f"trusted peer: {k} = {seen.get(k)!r}, expected {v!r}"
        for k, v in expected.items()
        if seen.get(k) != v
    ]
    admin, seen = get(port, "/api/auth/admin/login/", {"Host": "velo.test"})
    if admin != 200 or seen.get("path") != "/api/auth/admin/login/":
        problems.append(f"admin login not routed with ADMIN_UI_ENABLED=true: {admin}")
    return problems if status == 200 else [f"trusted peer: status {status}"]


def main(root: Path) -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = server.server_address[1]
    problems = with_gateway(root, upstream, untrusted)
    problems += with_gateway(
        root, upstream, trusted, TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1/32", ADMIN_UI_ENABLED="true"
    )
    with tempfile.TemporaryDirectory() as tmp:
        bad = render(root, Path(tmp), free_port(), upstream, TRUSTED_PROXIES="10.0.0.0/8;include /etc/passwd")
        if bad.returncode == 0:
            problems.append("a malformed TRUSTED_PROXIES entry was rendered")
    server.shutdown()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve()))
