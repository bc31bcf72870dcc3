#!/usr/bin/env bash
# make test: lint, every service's tests, contract tests, deployment checks, then the e2e suite and the
# Postman collection (newman) against a freshly started, isolated 'test' stack (ports +100, data under
# .run/test). Exit code is the truth.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STACK="bash $ROOT/scripts/stack.sh"
# VELO_TEST_STACK=work1 (or work2, work3) runs the same suite on a scratch stack, beside another run.
TS="${VELO_TEST_STACK:-test}"
case "$TS" in test | work1 | work2 | work3) ;; *) echo "VELO_TEST_STACK must be test or work1..work3" >&2; exit 2 ;; esac
failures=()
step() { printf '\n======== %s ========\n' "$*"; }
run() { # run NAME CMD...: run one suite, remember failures, keep going
  local name="$1"; shift
  step "$name"
  local t0=$SECONDS
  if "$@"; then echo "-- $name: ok ($((SECONDS - t0))s)"; else echo "-- $name: FAILED ($((SECONDS - t0))s)"; failures+=("$name"); fi
}

bash scripts/install.sh || exit 1

run "lint (ruff check)" .venv/bin/ruff check .
run "lint (ruff format --check)" .venv/bin/ruff format --check .
run "shell syntax" bash -n scripts/stack.sh scripts/install.sh scripts/test.sh
run "shared infrastructure code identical across services" .venv/bin/python tools/check_shared_code.py
run "console vendored libraries match console/package-lock.json" bash console/vendor.sh --check

step "starting a fresh test stack (infrastructure)"
export ADMIN_EMAIL="admin@velo.test"
ADMIN_PASSWORD="test-$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')"
export ADMIN_PASSWORD
# Short cache windows so the e2e suite sees fleet changes in GBFS status feeds within seconds.
export GBFS_STATUS_TTL=5
# Reservations last 15 s on the test stack so the e2e suite can watch one expire in real time.
export RESERVATION_MINUTES=0.25 RESERVATION_SWEEP_SECONDS=5
# ... and the notifier reminds riders 10 s before such a reservation ends (so 5 s after it was made).
export RESERVATION_REMINDER_SECONDS=10
# The e2e suite logs in 100+ riders from one address; the gateway's own limit is checked by validate-deploy.sh.
export AUTH_TOKEN_RATE=1200r/m AUTH_TOKEN_BURST=200
# ... and registers them (and asks for links) from that one address too: auth's per-address limits are
# checked by its unit tests; the lockout e2e test presents other loopback addresses.
# The console's map asks an unreachable tile server: the CSP names its origin, and the map must still draw.
export CONSOLE_TILE_URL='http://127.0.0.1:5/tiles/{z}/{x}/{y}.png'
export AUTH_REGISTER_RATE_PER_IP=100000 AUTH_RESEND_RATE_PER_IP=100000 AUTH_RESET_RATE_PER_IP=100000
$STACK reset "$TS" >/dev/null 2>&1 || true
trap '$STACK down "$TS" >/dev/null 2>&1 || true' EXIT
$STACK infra-up "$TS" || { echo "test stack infrastructure failed to start"; exit 1; }
# shellcheck disable=SC1091
source ".run/$TS/env.sh"
export CONTRACTS_DIR="$ROOT/contracts"

run "contract tests" .venv/bin/python -m pytest -q tests/contracts
if [[ -x scripts/validate-deploy.sh ]]; then run "deployment checks" bash scripts/validate-deploy.sh; fi
run "auth tests" bash -c 'cd services/auth && DATABASE_URL="$AUTH_DATABASE_URL" .venv/bin/python -m pytest -q -p no:cacheprovider'
run "rentals tests" bash -c 'cd services/rentals && DATABASE_URL="$RENTALS_DATABASE_URL" .venv/bin/python -m pytest -q -p no:cacheprovider'
run "billing-worker tests" bash -c 'cd services/billing-worker && .venv/bin/python -m pytest -q -p no:cacheprovider'
run "notifier tests" bash -c 'cd services/notifier && DATABASE_URL="$NOTIFIER_DATABASE_URL" .venv/bin/python -m pytest -q -p no:cacheprovider'

step "starting the test stack's services"
if $STACK apps-up "$TS"; then
  export VELO_STACK_CTL="$STACK" VELO_STACK="$TS"
  run "e2e tests" bash -c '.venv/bin/python -m pytest -q -p no:cacheprovider -rsP tests/e2e > .run/$VELO_STACK/e2e.log 2>&1;
    rc=$?; awk "/= PASSES =/{s=1} /short test summary info|(passed|failed|error|no tests ran).* in [0-9.]+s/{s=0} !s" .run/$VELO_STACK/e2e.log
    exit $rc'
  step "what the fault tests saw"
  grep -h "^\[fault\]" .run/$TS/e2e.log || echo "(no fault test output)"
  # The Postman collection (docs/postman) through newman, with the confirmation link read from the Maildir.
  run "postman collection (newman)" node tools/newman/run.js
else
  failures+=("test stack services")
  tail -n 30 .run/$TS/logs/*.log
fi

step "summary"
if ((${#failures[@]})); then
  printf 'FAILED: %s\n' "${failures[@]}"
  exit 1
fi
echo "all suites passed"
