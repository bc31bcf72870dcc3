#!/usr/bin/env bash
# make bench: start (or reuse) the isolated bench stack (every port + 200, data under .run/bench),
# seed data at scale, run every scenario and ceiling for a bounded time, print one table and write
# bench/results/<timestamp>.json. BENCH_QUICK=1: a smoke run of about 2 minutes. See BENCHMARKS.md.
# BENCH_STACK=work1 (work2, work3) runs it on a scratch stack instead, e.g. beside another checkout's run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BENCH_STACK="${BENCH_STACK:-bench}"
case "$BENCH_STACK" in
  bench) GW=8280 ;; work1) GW=8380 ;; work2) GW=8480 ;; work3) GW=8580 ;;
  *) echo "BENCH_STACK must be bench or work1..work3" >&2; exit 2 ;;
esac
RUN="$ROOT/.run/$BENCH_STACK"
cd "$ROOT"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

UV="$ROOT/.venv/bin/uv"  # installed by make install
[[ -x "$UV" ]] || UV="$(command -v uv || true)"
[[ -n "$UV" ]] || die "uv not found: run make install first"
for tool in wrk pgbench psql nginx python3; do
  command -v "$tool" >/dev/null || die "$tool not found (make install; wrk: apt-get install -y wrk)"
done
[[ -x services/rentals/.venv/bin/granian ]] || die "services/rentals/.venv missing: run make install first"

# Benchmark venv: the rentals service's pinned packages plus gunicorn and py-spy (bench/requirements.lock).
if [[ ! -x bench/.venv/bin/gunicorn || bench/requirements.lock -nt bench/.venv/.synced ]]; then
  log "creating bench/.venv"
  [[ -x bench/.venv/bin/python ]] || "$UV" venv -q bench/.venv -p python3.11
  "$UV" pip sync -q -p bench/.venv/bin/python bench/requirements.lock
  touch bench/.venv/.synced
fi

# Never inherit another stack's settings: stack.sh treats these as external overrides.
unset EMAIL_HOST EMAIL_PORT AWS_ENDPOINT_URL_S3 AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AMQP_URL \
  AUTH_AMQP_URL RENTALS_AMQP_URL BILLING_AMQP_URL AMQP_PRODUCER_USERS \
  AUTH_DATABASE_URL RENTALS_DATABASE_URL INVOICES_BUCKET PAYMENTS_WEBHOOK_SECRET PUBLIC_BASE_URL \
  VELO_RUN_DIR VELO_STACK GATEWAY_PORT GATEWAY_URL DATABASE_URL

# Bench-stack settings (documented in BENCHMARKS.md): riders log in without mail verification, 2-hour
# access tokens so a run never refreshes, and auth's own login rate limits lifted so the scenario 5
# login measurement and the rider setup measure the hasher, not the limiter.
mkdir -p "$RUN"
if [[ ! -s "$RUN/bench-admin-password" ]]; then
  (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$RUN/bench-admin-password")
fi
export ADMIN_EMAIL=admin@velo.bench ADMIN_PASSWORD="$(cat "$RUN/bench-admin-password")"
export AUTH_REQUIRE_EMAIL_VERIFICATION=false JWT_ACCESS_TTL_SECONDS=7200
export AUTH_LOGIN_RATE_PER_IP=1000000 AUTH_REGISTER_RATE_PER_IP=1000000

stack_ok() { curl -fsS -o /dev/null --max-time 3 http://127.0.0.1:$GW/api/readyz && \
             curl -fsS -o /dev/null --max-time 3 http://127.0.0.1:$GW/api/auth/readyz; }
if ! stack_ok; then
  log "starting the $BENCH_STACK stack (scripts/stack.sh up $BENCH_STACK)"
  bash scripts/stack.sh up "$BENCH_STACK" >&2 || die "the bench stack did not come up; see .run/bench/logs/"
fi
# A reused stack may have been started without the settings above: restart auth-web if so.
auth_pid="$(cat "$RUN/pids/auth-web.pid" 2>/dev/null || true)"
if [[ -z "$auth_pid" ]] || ! tr '\0' '\n' <"/proc/$auth_pid/environ" 2>/dev/null | grep -qx 'AUTH_LOGIN_RATE_PER_IP=1000000' \
   || ! tr '\0' '\n' <"/proc/$auth_pid/environ" 2>/dev/null | grep -qx 'AUTH_REQUIRE_EMAIL_VERIFICATION=false'; then
  log "restarting auth-web of the bench stack with the bench settings"
  # The stack's env.sh pins what it was started with (e.g. e-mail verification on): rewrite it first.
  bash scripts/stack.sh env "$BENCH_STACK" >/dev/null
  bash scripts/stack.sh restart auth-web "$BENCH_STACK" >&2
fi
for _ in $(seq 1 120); do stack_ok && break; sleep 0.5; done
stack_ok || die "bench stack not ready"

# shellcheck disable=SC1091
source "$RUN/env.sh"
exec python3 bench/velo_bench "$@"
