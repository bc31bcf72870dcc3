#!/usr/bin/env bash
# Installs what the local stack needs, skipping what is already there:
# Debian packages (as root), the tools venv (.venv) and one venv per service (services/*/.venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[install] %s\n' "$*" >&2; }

need_apt=()
have_pg() { ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; }
have_pg || need_apt+=(postgresql)
[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || need_apt+=(rabbitmq-server)
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v envsubst >/dev/null || need_apt+=(gettext-base)
command -v curl >/dev/null || need_apt+=(curl)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v setsid >/dev/null || need_apt+=(util-linux)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
command -v npm >/dev/null || need_apt+=(nodejs npm)
# The operator console's browser tests (tests/e2e/test_console.py) drive Debian's Chromium through Playwright.
command -v chromium >/dev/null || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages: ${need_apt[*]} (run as root, or: sudo apt-get install ${need_apt[*]})"; exit 1
  fi
  log "apt-get install ${need_apt[*]}"
  # Keep package scripts from starting system-wide services: the stack runs its own private instances.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >$policy; chmod +x $policy; created_policy=1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  ((created_policy)) && rm -f $policy
fi

PY="${PYTHON:-python3}"
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null \
  || { command -v python3.11 >/dev/null && PY=python3.11; } \
  || log "warning: Python 3.11 is the supported version; using $("$PY" --version)"

stamp_ok() { [[ -f "$1/.velo-stamp" ]] && [[ "$(cat "$1/.velo-stamp")" == "$2" ]]; }

# Tools venv: uv, ruff, SeaweedFS, aiosmtpd, validators, e2e test deps.
tools_hash=$(sha256sum "$ROOT/tools/requirements.txt" | cut -c1-16)
if ! stamp_ok "$ROOT/.venv" "$tools_hash"; then
  log "tools venv (.venv)"
  [[ -x "$ROOT/.venv/bin/python" ]] || "$PY" -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/tools/requirements.txt"
  echo "$tools_hash" >"$ROOT/.venv/.velo-stamp"
fi
UV="$ROOT/.venv/bin/uv"

for svc in auth rentals billing-worker notifier; do
  dir="$ROOT/services/$svc"
  lock="$dir/requirements-dev.lock"
  [[ -f "$lock" ]] || { log "skip $svc: no requirements-dev.lock yet"; continue; }
  h=$(sha256sum "$lock" | cut -c1-16)
  if ! stamp_ok "$dir/.venv" "$h"; then
    log "venv for $svc"
    [[ -x "$dir/.venv/bin/python" ]] || "$UV" venv -q -p "$PY" "$dir/.venv"
    "$UV" pip sync -q -p "$dir/.venv/bin/python" "$lock"
    echo "$h" >"$dir/.venv/.velo-stamp"
  fi
done
# newman (Postman's runner) for docs/postman, pinned by tools/newman/package-lock.json.
newman_dir="$ROOT/tools/newman"
newman_hash=$(sha256sum "$newman_dir/package-lock.json" | cut -c1-16)
if ! stamp_ok "$newman_dir/node_modules" "$newman_hash"; then
  log "newman (npm ci in tools/newman)"
  (cd "$newman_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$newman_hash" >"$newman_dir/node_modules/.velo-stamp"
fi
# The operator console's libraries (Leaflet, Chart.js), pinned by console/package-lock.json; the copies the
# gateway serves are committed in console/public/vendor/ and checked against these by make test.
console_dir="$ROOT/console"
console_hash=$(sha256sum "$console_dir/package-lock.json" | cut -c1-16)
if ! stamp_ok "$console_dir/node_modules" "$console_hash"; then
  log "console libraries (npm ci in console)"
  (cd "$console_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$console_hash" >"$console_dir/node_modules/.velo-stamp"
fi
log "dependencies in place"
