#!/usr/bin/env bash
# make compose-test: the Docker platform for real. Builds the images, starts deploy/compose.yml, runs
# tests/e2e (fault tests included: docker compose is their process controller, and one of them
# recreates rentals, auth and the billing worker under load) and the Postman collection through its
# gateway, then removes every container and volume it made, also when something fails.
#   scripts/compose-test.sh           run it
#   scripts/compose-test.sh --check   only say whether a Docker engine can run here (exit 0) or why not (1)
# On a machine that reaches no container registry, ../shared/containers/prepare.sh (when present) starts
# a Docker engine and builds stand-ins for the base images; elsewhere the machine's own Docker is used.
# Settings: COMPOSE_TEST_PULL=1 pulls VELO_REGISTRY/VELO_TAG images instead of building (GitLab's e2e
# job); COMPOSE_TEST_HOST is where the published ports are reached (default 127.0.0.1; `docker` with a
# docker:dind service, together with PUBLISH_ADDR=0.0.0.0).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PREPARE="$ROOT/../shared/containers/prepare.sh"
log() { printf '[compose-test] %s\n' "$*"; }

registry_answers() { # any HTTP answer (401 included) from Docker Hub's registry means images can be pulled
  [[ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' https://registry-1.docker.io/v2/ 2>/dev/null)" != 000 ]]
}

can_run() { # prints why not and fails when no Docker engine can run here
  if docker info >/dev/null 2>&1; then return 0; fi
  if [[ -f "$PREPARE" && $(id -u) -eq 0 ]]; then return 0; fi
  if [[ $(id -u) -ne 0 ]]; then echo "no Docker engine answers and starting one needs root"; return 1; fi
  echo "no Docker engine answers and ../shared/containers/prepare.sh is not here to start one"
  return 1
}

if [[ "${1:-}" == --check ]]; then
  reason=$(can_run) && exit 0
  echo "$reason"; exit 1
fi

if [[ -f "$PREPARE" ]] && ! registry_answers; then
  log "no container registry answers: preparing the engine and stand-in base images ($PREPARE)"
  bash "$PREPARE" || { log "prepare.sh failed"; exit 1; }
elif ! docker info >/dev/null 2>&1; then
  log "no Docker engine answers (docker info failed)"; exit 1
fi
docker compose version >/dev/null 2>&1 || { log "docker compose v2 is missing"; exit 1; }
# The tools venv runs tests/e2e: scripts/install.sh makes it on Debian/Ubuntu; elsewhere (GitLab's
# docker:cli job) the caller has made it.
if command -v apt-get >/dev/null; then bash scripts/install.sh || exit 1; fi
[[ -x .venv/bin/python ]] || { log "no tools venv (.venv): python3 -m venv .venv && .venv/bin/pip install -r tools/requirements.txt"; exit 1; }

# A project and ports of its own: a local stack (8080, 8333, ...) may run beside it.
export COMPOSE_PROJECT_NAME=velo-e2e COMPOSE_FILE="$ROOT/deploy/compose.yml"
HOST="${COMPOSE_TEST_HOST:-127.0.0.1}"
export PUBLISH_ADDR="${PUBLISH_ADDR:-127.0.0.1}" GATEWAY_PORT=18080 S3_PORT=18333 MAILPIT_PORT=18025 RABBITMQ_MANAGEMENT_PORT=18672
export PUBLIC_BASE_URL="http://$HOST:$GATEWAY_PORT" S3_PUBLIC_URL="http://$HOST:$S3_PORT"
export PUBLIC_HOSTS="localhost,127.0.0.1,$HOST"
# The same short windows as the local test stack (scripts/test.sh): reservations expire in 15 s, GBFS
# status feeds are at most 5 s old, and 100+ riders may log in from one address.
export RESERVATION_MINUTES=0.25 RESERVATION_SWEEP_SECONDS=5 GBFS_STATUS_TTL=5 RESERVATION_REMINDER_SECONDS=10
export AUTH_TOKEN_RATE=1200r/m AUTH_TOKEN_BURST=200
export AUTH_REGISTER_RATE_PER_IP=100000 AUTH_RESEND_RATE_PER_IP=100000 AUTH_RESET_RATE_PER_IP=100000
# A network of its own beside a `velo` project on the default 172.30.80.0/24.
export VELO_SUBNET=172.30.81.0/24 VELO_GATEWAY_ADDRESS=172.30.81.80
# Published ports reach nginx from the bridge's address whatever the client's: tests that need two client
# addresses skip (tests/e2e/README.md).
export E2E_CLIENTS_SHARE_ONE_ADDRESS=1
export ADMIN_EMAIL=admin@velo.example
RUN="$ROOT/.run/compose-test"
rm -rf "$RUN"; mkdir -p "$RUN"
mirror_pid=""

cleanup() {
  local rc=$?
  [[ -n "$mirror_pid" ]] && kill "$mirror_pid" 2>/dev/null
  docker compose logs --no-color --timestamps >"$RUN/compose.log" 2>&1 || true
  docker compose down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || true
  left=$(docker ps -a -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
  if [[ -n "$left" ]]; then log "containers left behind: $left"; docker rm -f $left >/dev/null 2>&1; rc=1; fi
  log "stack removed (logs: .run/compose-test/compose.log)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failed_services() { # the last log lines of every service that is not running healthy (or done, for jobs)
  docker compose ps -a --format '{{.Service}}|{{.State}}|{{.Health}}|{{.ExitCode}}' |
    while IFS='|' read -r svc state health code; do
      case "$state:$health:$code" in
        running:healthy:* | running::* | exited::0) ;;
        *)
          echo "---- $svc: $state ${health:+($health) }exit code $code; last log lines:"
          docker compose logs --no-color --tail 40 "$svc" 2>&1 ;;
      esac
    done
}

deploy/secrets/generate.sh >/dev/null
t0=$SECONDS
if [[ "${COMPOSE_TEST_PULL:-0}" == 1 ]]; then
  log "docker compose pull (${VELO_REGISTRY:-velo}/*:${VELO_TAG:-dev})"
  docker compose pull --quiet || { log "pull failed"; exit 1; }
else
  log "docker compose build"
  docker compose build || { log "build failed"; exit 1; }
fi
log "images ready in $((SECONDS - t0)) s"
docker compose down --volumes --remove-orphans >/dev/null 2>&1  # leftovers of an interrupted run
t1=$SECONDS
if ! docker compose up --detach --no-build --wait --wait-timeout 300; then
  log "the stack did not become healthy"
  docker compose ps -a
  failed_services
  exit 1
fi
log "all services healthy in $((SECONDS - t1)) s"

# tests/e2e reads mail from a Maildir, like the local SMTP sink: mirror Mailpit into one.
export MAIL_DIR="$RUN/mail"
.venv/bin/python deploy/ci/mailpit_maildir.py --mailpit "http://$HOST:$MAILPIT_PORT" --maildir "$MAIL_DIR" \
  >"$RUN/mailpit-mirror.log" 2>&1 &
mirror_pid=$!
export GATEWAY_URL="http://$HOST:$GATEWAY_PORT"
PAYMENTS_WEBHOOK_SECRET="$(cat deploy/secrets/payments-webhook-secret)"
ADMIN_PASSWORD="$(cat deploy/secrets/admin-password)"
export PAYMENTS_WEBHOOK_SECRET ADMIN_PASSWORD
export VELO_STACK_CTL="bash $ROOT/deploy/ci/compose_ctl.sh" VELO_STACK="$COMPOSE_PROJECT_NAME"

log "tests/e2e against the compose gateway $GATEWAY_URL"
.venv/bin/python -m pytest -q -p no:cacheprovider -rsP tests/e2e >"$RUN/e2e.log" 2>&1
rc=$?
awk '/= PASSES =/{s=1} /short test summary info|(passed|failed|error|no tests ran).* in [0-9.]+s/{s=0} !s' "$RUN/e2e.log"
echo "---- what the fault tests saw"
grep -h "^\[fault\]" "$RUN/e2e.log" || echo "(no fault test output)"
if ((rc != 0)); then
  log "e2e failed (exit $rc)"
  failed_services
  exit "$rc"
fi
# The Postman collection (docs/postman) through newman, as in make test.
log "Postman collection (newman) against the compose gateway"
if ! node tools/newman/run.js; then
  log "newman failed"
  failed_services
  exit 1
fi
log "e2e passed against compose (images $((t1 - t0)) s, start and tests $((SECONDS - t1)) s)"
