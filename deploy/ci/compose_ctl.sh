#!/usr/bin/env bash
# Process control of a compose deployment for tests/e2e's fault tests (VELO_STACK_CTL), with the same
# interface as scripts/stack.sh:   compose_ctl.sh start|stop|restart SERVICE PROJECT
#   stop     docker compose stop; with SIGNAL=KILL (INT, ...) the container is killed with that signal
#   start    starts it again; returns once it runs, and for the web services (auth, rentals, gateway)
#            once it is healthy, like scripts/stack.sh (a worker is not waited for: the fault tests
#            watch what it does from its first second)
#   restart  recreates its container, as an upgrade does (up --force-recreate), and returns as start does,
#            and once the gateway is healthy (compose restarts it whenever auth or rentals change)
# The compose file is COMPOSE_FILE (default: deploy/compose.yml beside this script).
set -euo pipefail
shopt -s extglob
action=${1:?usage: compose_ctl.sh start|stop|restart SERVICE PROJECT}
service=${2:?service}
project=${3:?compose project name}
here=$(cd "$(dirname "$0")" && pwd)
export COMPOSE_FILE="${COMPOSE_FILE:-$here/../compose.yml}"
compose() { docker compose -p "$project" "$@"; }

state_of() { # "running healthy", "running none" (no health check), "exited none", ... or "" (no container)
    local id
    id=$(compose ps -a -q "$1" | head -1)
    [[ -n "$id" ]] || return 0
    docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id"
}

wait_state() { # wait_state SERVICE PATTERN SECONDS
    local deadline=$((SECONDS + $3)) state=""
    while ((SECONDS < deadline)); do
        state=$(state_of "$1")
        # shellcheck disable=SC2053 # PATTERN is a glob on purpose
        [[ "$state" == $2 ]] && return 0
        sleep 0.5
    done
    echo "compose_ctl: $1 is '$state' after $3 s, expected '$2'" >&2
    compose logs --no-color --tail 40 "$1" >&2 || true
    return 1
}

ready() { # ready SERVICE...
    local svc
    for svc in "$@"; do
        case "$svc" in
            auth | rentals | gateway) wait_state "$svc" "running @(healthy|none)" 240 ;;
            *) wait_state "$svc" "running *" 60 ;;
        esac
    done
}

case "$action" in
    stop)
        if [[ -n "${SIGNAL:-}" && "${SIGNAL#SIG}" != TERM ]]; then
            compose kill -s "${SIGNAL#SIG}" "$service" >/dev/null
            wait_state "$service" "@(exited|dead) *" 60 || true
        fi
        # Also after a kill: a stopped container stays down (no restart policy brings it back).
        compose stop "$service" >/dev/null
        ;;
    start)
        compose start "$service" >/dev/null
        ready "$service"
        ;;
    restart)
        compose up --detach --no-deps --force-recreate "$service" >/dev/null
        ready "$service" gateway
        ;;
    *) echo "compose_ctl: unknown action $action (start|stop|restart)" >&2; exit 2 ;;
esac
