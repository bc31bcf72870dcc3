#!/usr/bin/env bash
# Local Velo stack: every part runs as a plain local process bound to 127.0.0.1.
#
#   scripts/stack.sh up [STACK]          start everything (idempotent), migrate, seed, print the gateway URL
#   scripts/stack.sh infra-up [STACK]    PostgreSQL, RabbitMQ, SeaweedFS S3, SMTP sink only
#   scripts/stack.sh apps-up [STACK]     migrations, seed, web services, relays, consumer, worker, beat, gateway
#   scripts/stack.sh down [STACK]        stop exactly the processes this stack started (by PID); data survives
#   scripts/stack.sh reset [STACK]       down, then delete the stack's data
#   scripts/stack.sh start|stop|restart PROCESS [STACK]   control one process (used by fault tests)
#   scripts/stack.sh status|logs [STACK]
#
# STACK is "dev" (default; ports as documented), "test" (every port + 100, data under .run/test) or
# "bench" (every port + 200, data under .run/bench; used by make bench); "work1".."work3" (+300, +400,
# +500) are scratch stacks for running several checkouts' or helpers' suites side by side.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CMD="${1:-up}"
case "$CMD" in
  start | stop | restart) PROC="${2:?process name}"; STACK="${3:-${STACK:-dev}}" ;;
  *) STACK="${2:-${STACK:-dev}}" ;;
esac
# The compose/Kubernetes names of the web services work too (tests/e2e's fault tests use them).
case "${PROC:-}" in
  auth | rentals | notifier) PROC="$PROC-web" ;;
esac
case "$STACK" in
  dev) OFF=0 ;;
  test) OFF=100 ;;
  bench) OFF=200 ;;
  work1) OFF=300 ;;
  work2) OFF=400 ;;
  work3) OFF=500 ;;
  *) echo "unknown stack '$STACK' (dev|test|bench|work1|work2|work3)" >&2; exit 2 ;;
esac

RUN="$ROOT/.run/$STACK"
PIDS="$RUN/pids"
LOGS="$RUN/logs"
SECRETS="$RUN/secrets"
TOOLS="$ROOT/.venv/bin"
mkdir -p "$PIDS" "$LOGS" "$SECRETS"
chmod 755 "$ROOT/.run" "$RUN"

port() { echo $(($1 + OFF)); }
GATEWAY_PORT_DEFAULT=$(port 8080)
[[ "$STACK" == dev ]] && GATEWAY_PORT="${GATEWAY_PORT:-$GATEWAY_PORT_DEFAULT}" || GATEWAY_PORT=$GATEWAY_PORT_DEFAULT
AUTH_PORT=$(port 8001)
RENTALS_PORT=$(port 8002)
NOTIFIER_PORT=$(port 8003)
TELEGRAM_PORT=$(port 8181)
PG_PORT=$(port 5433)
AMQP_PORT=$(port 5673)
RABBIT_DIST_PORT=$(port 25673)
EPMD_PORT=$(port 4369)
S3_PORT=$(port 8333)
SMTP_PORT=$(port 1025)

log() { printf '[stack:%s] %s\n' "$STACK" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- secrets and environment
secret() { # secret NAME [bytes]: generated once into .run/<stack>/secrets
  local f="$SECRETS/$1"
  if [[ ! -s "$f" ]]; then
    (umask 077; python3 -c "import secrets,sys; print(secrets.token_hex(int(sys.argv[1])))" "${2:-24}" >"$f")
  fi
  cat "$f"
}

ensure_jwt_keys() {
  local dir="$SECRETS/jwt" pub="$SECRETS/jwt-public"
  mkdir -p "$dir" "$pub"
  chmod 700 "$dir"
  if ! ls "$dir"/*.pem >/dev/null 2>&1; then
    local kid
    kid="velo-$(date -u +%Y%m%d)-$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
    (umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/$kid.pem" 2>/dev/null)
    echo "$kid" >"$SECRETS/jwt-signing-kid"
  fi
  for key in "$dir"/*.pem; do
    case "$key" in *.pub.pem) continue ;; esac
    local kid; kid="$(basename "$key" .pem)"
    [[ -s "$dir/$kid.pub.pem" ]] || openssl pkey -in "$key" -pubout -out "$dir/$kid.pub.pem" 2>/dev/null
    cp "$dir/$kid.pub.pem" "$pub/$kid.pub.pem"
  done
}

write_env() {
  ensure_jwt_keys
  local pg_admin_pw auth_pw rentals_pw notifier_pw amqp_pw s3_key s3_secret amqp_base svc var producer_users
  pg_admin_pw=$(secret pg-admin-password)
  auth_pw=$(secret pg-auth-password)
  rentals_pw=$(secret pg-rentals-password)
  notifier_pw=$(secret pg-notifier-password)
  amqp_pw=$(secret amqp-password)
  s3_key=$(secret s3-access-key 10)
  s3_secret=$(secret s3-secret-key 20)
  # Values given in the caller's environment win (external mail, S3, broker, databases); see README.
  # The test and scratch stacks are always self-contained.
  if [[ "${VELO_RUN_DIR:-}" == "$RUN" ]]; then
    # The caller sourced this stack's own env.sh: those values are ours, not external overrides.
    unset EMAIL_HOST EMAIL_PORT AWS_ENDPOINT_URL_S3 AMQP_URL AUTH_DATABASE_URL RENTALS_DATABASE_URL \
      AUTH_AMQP_URL RENTALS_AMQP_URL BILLING_AMQP_URL AMQP_PRODUCER_USERS NOTIFIER_DATABASE_URL NOTIFIER_AMQP_URL \
      TELEGRAM_API_BASE_URL TELEGRAM_BOT_TOKEN TELEGRAM_WEBHOOK_SECRET TELEGRAM_BOT_USERNAME
  fi
  if [[ "$STACK" == test || "$STACK" == work? ]]; then
    unset EMAIL_HOST EMAIL_PORT AWS_ENDPOINT_URL_S3 AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AMQP_URL \
      AUTH_DATABASE_URL RENTALS_DATABASE_URL INVOICES_BUCKET PAYMENTS_WEBHOOK_SECRET \
      AUTH_AMQP_URL RENTALS_AMQP_URL BILLING_AMQP_URL AMQP_PRODUCER_USERS NOTIFIER_DATABASE_URL NOTIFIER_AMQP_URL \
      TELEGRAM_API_BASE_URL TELEGRAM_BOT_TOKEN TELEGRAM_WEBHOOK_SECRET TELEGRAM_BOT_USERNAME
  fi
  local ext_mail=0 ext_s3=0 ext_amqp=0 ext_pg=0 ext_telegram=0
  [[ -n "${EMAIL_HOST:-}" ]] && ext_mail=1
  [[ -n "${AWS_ENDPOINT_URL_S3:-}" ]] && ext_s3=1
  [[ -n "${AMQP_URL:-}" ]] && ext_amqp=1
  [[ -n "${AUTH_DATABASE_URL:-}" && -n "${RENTALS_DATABASE_URL:-}" && -n "${NOTIFIER_DATABASE_URL:-}" ]] && ext_pg=1
  # A real Telegram (or another Bot API server) given as TELEGRAM_API_BASE_URL: the local fake is not started.
  [[ -n "${TELEGRAM_API_BASE_URL:-}" ]] && ext_telegram=1
  # One broker user per service (rabbit_users_ensure). An external broker given only as AMQP_URL is used
  # by every service with that one user; AUTH_/RENTALS_/BILLING_AMQP_URL name per-service users there.
  local -A amqp_urls
  amqp_base="127.0.0.1:$AMQP_PORT/%2F"
  for svc in auth rentals billing notifier; do
    var="${svc^^}_AMQP_URL"
    if [[ -n "${!var:-}" ]]; then amqp_urls[$svc]="${!var}"
    elif ((ext_amqp)); then amqp_urls[$svc]="$AMQP_URL"
    else amqp_urls[$svc]="amqp://$svc:$(secret "amqp-$svc-password")@$amqp_base"; fi
  done
  producer_users="auth=$(url_user "${amqp_urls[auth]}"),rentals=$(url_user "${amqp_urls[rentals]}")"
  producer_users="${AMQP_PRODUCER_USERS:-$producer_users,billing=$(url_user "${amqp_urls[billing]}")}"
  local f="$RUN/env.sh.tmp"
  (
    umask 077
    cat >"$f" <<EOF
# Generated by scripts/stack.sh for the '$STACK' stack. source it to talk to this stack.
export VELO_STACK='$STACK'
export VELO_RUN_DIR='$RUN'
export VELO_EXTERNAL_MAIL=$ext_mail VELO_EXTERNAL_S3=$ext_s3 VELO_EXTERNAL_AMQP=$ext_amqp VELO_EXTERNAL_PG=$ext_pg
export VELO_EXTERNAL_TELEGRAM=$ext_telegram
export GATEWAY_PORT='$GATEWAY_PORT'
export GATEWAY_URL='http://127.0.0.1:$GATEWAY_PORT'
export PUBLIC_BASE_URL='${PUBLIC_BASE_URL:-http://127.0.0.1:$GATEWAY_PORT}'
export AUTH_PORT='$AUTH_PORT' RENTALS_PORT='$RENTALS_PORT' NOTIFIER_PORT='$NOTIFIER_PORT'
export PG_PORT='$PG_PORT'
export PG_ADMIN_URL='postgres://velo_admin:$pg_admin_pw@127.0.0.1:$PG_PORT/postgres'
export AUTH_DATABASE_URL='${AUTH_DATABASE_URL:-postgres://auth:$auth_pw@127.0.0.1:$PG_PORT/auth}'
export RENTALS_DATABASE_URL='${RENTALS_DATABASE_URL:-postgres://rentals:$rentals_pw@127.0.0.1:$PG_PORT/rentals}'
export NOTIFIER_DATABASE_URL='${NOTIFIER_DATABASE_URL:-postgres://notifier:$notifier_pw@127.0.0.1:$PG_PORT/notifier}'
export AMQP_URL='${AMQP_URL:-amqp://velo:$amqp_pw@$amqp_base}'
export AUTH_AMQP_URL='${amqp_urls[auth]}'
export RENTALS_AMQP_URL='${amqp_urls[rentals]}'
export BILLING_AMQP_URL='${amqp_urls[billing]}'
export NOTIFIER_AMQP_URL='${amqp_urls[notifier]}'
export AMQP_PRODUCER_USERS='$producer_users'
export AMQP_PORT='$AMQP_PORT'
export AWS_ENDPOINT_URL_S3='${AWS_ENDPOINT_URL_S3:-http://127.0.0.1:$S3_PORT}'
export AWS_ACCESS_KEY_ID='${AWS_ACCESS_KEY_ID:-$s3_key}'
export AWS_SECRET_ACCESS_KEY='${AWS_SECRET_ACCESS_KEY:-$s3_secret}'
export AWS_DEFAULT_REGION='${AWS_DEFAULT_REGION:-us-east-1}'
export INVOICES_BUCKET='${INVOICES_BUCKET:-velo-invoices}'
export EMAIL_HOST='${EMAIL_HOST:-127.0.0.1}'
export EMAIL_PORT='${EMAIL_PORT:-$SMTP_PORT}'
export EMAIL_FROM='${EMAIL_FROM:-Velo <no-reply@velo.example>}'
export MAIL_DIR='$RUN/mail'
export TELEGRAM_DIR='$RUN/telegram'
export TELEGRAM_API_BASE_URL='${TELEGRAM_API_BASE_URL:-http://127.0.0.1:$TELEGRAM_PORT}'
export TELEGRAM_BOT_TOKEN='${TELEGRAM_BOT_TOKEN:-$((100000 + OFF)):$(secret telegram-bot-token 16)}'
export TELEGRAM_WEBHOOK_SECRET='${TELEGRAM_WEBHOOK_SECRET:-$(secret telegram-webhook-secret 24)}'
export TELEGRAM_PORT='$TELEGRAM_PORT'
export PAYMENTS_WEBHOOK_SECRET='${PAYMENTS_WEBHOOK_SECRET:-$(secret payments-webhook-secret 32)}'
export JWT_KEYS_DIR='$SECRETS/jwt'
export JWT_PUBLIC_KEYS_DIR='$SECRETS/jwt-public'
export JWT_SIGNING_KID='$(cat "$SECRETS/jwt-signing-kid")'
export AUTH_DJANGO_SECRET_KEY='$(secret auth-django-secret 32)'
export RENTALS_DJANGO_SECRET_KEY='$(secret rentals-django-secret 32)'
export NOTIFIER_DJANGO_SECRET_KEY='$(secret notifier-django-secret 32)'
export ALLOWED_HOSTS='127.0.0.1,localhost'
export AUTH_REQUIRE_EMAIL_VERIFICATION='${AUTH_REQUIRE_EMAIL_VERIFICATION:-true}'
export GATEWAY_ADDRESSES='${GATEWAY_ADDRESSES:-127.0.0.1/32}'
export RESERVATION_MINUTES='${RESERVATION_MINUTES:-10}'
export LOG_LEVEL='${LOG_LEVEL:-INFO}'
EOF
    # Optional settings pass through to every process when the caller sets them.
    local v
    for v in ADMIN_EMAIL ADMIN_PASSWORD RECONCILE_AFTER_SECONDS RECONCILE_INTERVAL_SECONDS DEFAULT_CURRENCY \
      JWT_ISSUER JWT_AUDIENCE JWT_ACCESS_TTL_SECONDS JWT_REFRESH_TTL_SECONDS AWS_S3_PUBLIC_ENDPOINT_URL \
      GBFS_PUBLIC_BASE_URL GBFS_SYSTEM_ID GBFS_SYSTEM_NAME GBFS_OPERATOR GBFS_TIMEZONE GBFS_LANGUAGES \
      GBFS_OPENING_HOURS GBFS_FEED_CONTACT_EMAIL GBFS_LICENSE_URL GBFS_STATUS_TTL GBFS_INFO_TTL \
      RESERVATION_SWEEP_SECONDS RESERVATION_SWEEP_BATCH_SIZE AUTH_TOKEN_RATE AUTH_TOKEN_BURST \
      CORS_ALLOWED_ORIGINS_REGEX AUTH_LOGIN_RATE_PER_IP AUTH_LOGIN_RATE_WINDOW_SECONDS AUTH_LOGIN_FREE_FAILURES \
      AUTH_LOGIN_DELAY_BASE_SECONDS AUTH_LOGIN_DELAY_MAX_SECONDS AUTH_LOGIN_FAILURE_RESET_SECONDS \
      AUTH_ADDRESS_RATE_WINDOW_SECONDS AUTH_REGISTER_RATE_PER_IP AUTH_RESEND_RATE_PER_IP AUTH_RESET_RATE_PER_IP \
      AUTH_PASSWORD_CHANGE_RATE_PER_IP AUTH_RESEND_RATE_PER_ACCOUNT AUTH_ACCOUNT_MAIL_RATE_PER_ACCOUNT \
      AUTH_PASSWORD_CHANGE_RATE_PER_ACCOUNT PASSWORD_RESET_TTL_SECONDS ADMIN_UI_ENABLED BILLING_PREFETCH \
      BILLING_BATCH_SIZE BILLING_BATCH_THREADS BILLING_CHILD_NICE \
      OUTBOX_RETENTION_HOURS IDEMPOTENCY_RETENTION_HOURS RETENTION_PRUNE_INTERVAL_SECONDS RETENTION_PRUNE_BATCH_SIZE \
      RIDER_STATUS_CACHE_SECONDS OUTBOX_RELAY_COALESCE_SECONDS OUTBOX_VALIDATE_ON_EMIT BIKE_LIST_CACHE_SECONDS \
      OUTBOX_RELAY_POLL_SECONDS OUTBOX_RELAY_BATCH_SIZE OUTBOX_POLL_INTERVAL_SECONDS OUTBOX_BATCH_SIZE \
      BIKE_LIST_MAX_AGE_SECONDS \
      ADMIN_UI_ENABLED TRUSTED_PROXIES CONSOLE_TILE_URL PROBLEM_REPORTS_TO_CHECK ZONE_MAX_VERTICES GBFS_PROPULSION_TYPE \
      GBFS_MAX_RANGE_METERS TELEGRAM_BOT_USERNAME RESERVATION_REMINDER_SECONDS \
      LONG_RENTAL_REMINDER_MINUTES TELEGRAM_LINK_TTL_SECONDS NOTIFIER_MAX_RETRIES NOTIFIER_DISPATCH_POLL_SECONDS \
      MDS_PROVIDER_ID MDS_HOUR_CLOSE_SECONDS MDS_RATE_PER_SECOND MDS_RATE_BURST AGENCY_TOKEN_TTL_SECONDS; do
      [[ -n "${!v:-}" ]] && printf "export %s=%q\n" "$v" "${!v}" >>"$f"
    done
    true
  )
  mv "$f" "$RUN/env.sh"
}

url_user() { # url_user AMQP_URL: its user name
  local rest="${1#*://}"
  [[ "$rest" == *@* ]] || { echo guest; return; }
  rest="${rest%%@*}"
  echo "${rest%%:*}"
}

load_env() {
  [[ -s "$RUN/env.sh" ]] || write_env
  # shellcheck disable=SC1091
  source "$RUN/env.sh"
}

# ---------------------------------------------------------------- process bookkeeping
pid_of() { [[ -s "$PIDS/$1.pid" ]] && cat "$PIDS/$1.pid"; }
alive() { local p; p=$(pid_of "$1") && [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; }

# spawn NAME DIR CMD...: start CMD in its own session (so stopping kills its whole process group)
spawn() {
  local name="$1" dir="$2"; shift 2
  if alive "$name"; then log "$name already running (pid $(pid_of "$name"))"; return 0; fi
  (cd "$dir" && exec setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null) &
  echo $! >"$PIDS/$name.pid"
  log "started $name (pid $!, log .run/$STACK/logs/$name.log)"
}

stop_proc() {
  local name="$1" sig="${2:-TERM}" p
  p=$(pid_of "$name") || return 0
  if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; then
    kill -"$sig" -- "-$p" 2>/dev/null || kill -"$sig" "$p" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; fi
    log "stopped $name (pid $p)"
  fi
  rm -f "$PIDS/$name.pid"
}

wait_for() { # wait_for DESCRIPTION SECONDS CMD...   (gives up early if process $WATCH died)
  local what="$1" secs="$2"; shift 2
  for _ in $(seq 1 $((secs * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -n "${WATCH:-}" ]] && ! alive "$WATCH"; then
      tail -5 "$LOGS/$WATCH.log" >&2 || true
      die "$WATCH exited while waiting for $what (see .run/$STACK/logs/$WATCH.log)"
    fi
    sleep 0.25
  done
  die "$what not ready after ${secs}s (see .run/$STACK/logs/)"
}

tcp_open() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1"; }
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# ---------------------------------------------------------------- PostgreSQL
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
as_pg() { # PostgreSQL refuses to run as root: use the unprivileged 'velo' user then
  if [[ $(id -u) -eq 0 ]]; then runuser -u velo -- "$@"; else "$@"; fi
}

pg_elsewhere() { echo "/var/lib/velo/$(printf %s "$ROOT" | sha1sum | cut -c1-12)/$STACK"; }

pg_dirs() { # the data dir must be reachable by the unprivileged user; a clone under /root is not
  PGDIR="$RUN/pg" PGSOCK="$RUN/pg-socket"
  if [[ $(id -u) -eq 0 ]] && ! runuser -u velo -- test -x "$RUN"; then
    local alt
    alt=$(pg_elsewhere)
    # No link in .run: the data there belongs to an earlier checkout at this path whose .run is gone
    # (its passwords with it), so it is stale.
    [[ -L "$RUN/pg-elsewhere" ]] || rm -rf "$alt"
    mkdir -p "$alt"
    chmod 755 /var/lib/velo "$(dirname "$alt")"
    chown velo "$alt"
    PGDIR="$alt/pg" PGSOCK="$alt/pg-socket"
    ln -sfn "$alt" "$RUN/pg-elsewhere"
  fi
}

pg_up() {
  [[ "${VELO_EXTERNAL_PG:-0}" == 1 ]] && { log "PostgreSQL: external (AUTH_/RENTALS_/NOTIFIER_DATABASE_URL set)"; return; }
  [[ -n "$PG_BIN" ]] || die "PostgreSQL binaries not found; run make up (installs them)"
  if [[ $(id -u) -eq 0 ]] && ! id velo >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin velo
  fi
  pg_dirs
  mkdir -p "$PGSOCK"
  [[ $(id -u) -eq 0 ]] && chown velo "$PGSOCK"
  if [[ ! -s "$PGDIR/PG_VERSION" ]]; then
    mkdir -p "$PGDIR"
    local pwfile="$PGSOCK/.pw"
    secret pg-admin-password >"$pwfile"
    if [[ $(id -u) -eq 0 ]]; then chown velo "$PGDIR" "$pwfile"; fi
    as_pg "$PG_BIN/initdb" -D "$PGDIR" -U velo_admin --pwfile="$pwfile" --auth-local=scram-sha-256 \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >>"$LOGS/postgres.log" 2>&1 || die "initdb failed"
    rm -f "$pwfile"
    cat >>"$PGDIR/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGSOCK'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
log_min_duration_statement = 1000
EOF
  fi
  if ! alive postgres; then
    [[ $(id -u) -eq 0 ]] && chown -R velo "$PGDIR" && chmod 700 "$PGDIR"
    if [[ $(id -u) -eq 0 ]]; then
      spawn postgres "$RUN" runuser -u velo -- "$PG_BIN/postgres" -D "$PGDIR"
    else
      spawn postgres "$RUN" "$PG_BIN/postgres" -D "$PGDIR"
    fi
  fi
  WATCH=postgres wait_for PostgreSQL 60 "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q
  pg_bootstrap
}

psql_admin() { PGPASSWORD=$(secret pg-admin-password) "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U velo_admin -d postgres "$@"; }

pg_bootstrap() { # one role and one database per service (idempotent)
  local svc pw
  for svc in auth rentals notifier; do
    pw=$(secret "pg-$svc-password")
    psql_admin -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$svc') THEN CREATE ROLE $svc LOGIN CREATEDB PASSWORD '$pw'; END IF; END \$\$;"
    if [[ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$svc'")" ]]; then
      psql_admin -c "CREATE DATABASE $svc OWNER $svc"
    fi
  done
}

# ---------------------------------------------------------------- RabbitMQ
RABBIT_HOME="$RUN/rabbitmq"
# Erlang scheduler busy-waiting is already off: rabbitmq-env passes +sbwt/+sbwtdcpu/+sbwtdio none (the same
# in the rabbitmq Docker images). Measured on 2 cores: Erlang's own default (very_short) cost ~20-30 % more
# beam.smp CPU per invoice and ~50 % more when idle, so nothing here (or in deploy/) turns it back on.
rabbit_env() {
  export HOME="$RABBIT_HOME/home" ERL_EPMD_PORT="$EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_NODENAME="velo-$STACK@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$AMQP_PORT" RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$RABBIT_HOME/mnesia" RABBITMQ_LOG_BASE="$RABBIT_HOME/log"
  export RABBITMQ_CONFIG_FILE="$RABBIT_HOME/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_HOME/enabled_plugins"
  export RABBITMQ_PID_FILE="$RABBIT_HOME/rabbitmq.pid" RABBITMQ_LOGS=-
}
RABBIT_BIN=/usr/lib/rabbitmq/bin

rabbit_up() {
  [[ "${VELO_EXTERNAL_AMQP:-0}" == 1 ]] && { log "RabbitMQ: external (AMQP_URL set)"; return; }
  [[ -x "$RABBIT_BIN/rabbitmq-server" ]] || die "rabbitmq-server not installed; run make up"
  mkdir -p "$RABBIT_HOME/home" "$RABBIT_HOME/mnesia" "$RABBIT_HOME/log"
  cat >"$RABBIT_HOME/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
default_user = velo
default_pass = $(secret amqp-password)
default_vhost = /
loopback_users = none
vm_memory_high_watermark.relative = 0.3
disk_free_limit.absolute = 200MB
EOF
  echo "[]." >"$RABBIT_HOME/enabled_plugins"
  (
    rabbit_env
    if ! alive epmd; then spawn epmd "$RUN" epmd -port "$EPMD_PORT" -address 127.0.0.1; fi
    wait_for epmd 20 tcp_open "$EPMD_PORT"
    if ! alive rabbitmq; then spawn rabbitmq "$RUN" "$RABBIT_BIN/rabbitmq-server"; fi
    WATCH=rabbitmq wait_for RabbitMQ 90 "$RABBIT_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" await_startup --timeout 5
  )
  rabbit_users_ensure
}

# Least privilege (docs/ARCHITECTURE.md, "Broker users"): each service's user may configure, write and
# read only its own exchanges and queues, and read (bind to) the producers' exchanges it consumes. The same
# regexes are in deploy/secrets/generate.sh (the compose broker's definitions). 'velo' stays the
# administrator (tests, operators).
RABBIT_RENTALS_OWN='rentals\.events|rentals\.inbox|rentals\.inbox\.dlq|rentals\.dlx'
RABBIT_BILLING_OWN='billing\..*|celery.*|.*pidbox|amq\.gen-.*'
RABBIT_NOTIFIER_OWN='notifier\..*|celery.*|.*pidbox|amq\.gen-.*'
declare -A RABBIT_PERMISSIONS=(
  [auth]='^auth\.events$ ^auth\.events$ ^$'
  [rentals]="^($RABBIT_RENTALS_OWN)\$ ^($RABBIT_RENTALS_OWN)\$ ^($RABBIT_RENTALS_OWN|auth\\.events|billing\\.events)\$"
  [billing]="^($RABBIT_BILLING_OWN)\$ ^($RABBIT_BILLING_OWN)\$ ^($RABBIT_BILLING_OWN|rentals\\.events)\$"
  [notifier]="^($RABBIT_NOTIFIER_OWN)\$ ^($RABBIT_NOTIFIER_OWN)\$ ^($RABBIT_NOTIFIER_OWN|auth\\.events|rentals\\.events|billing\\.events)\$"
)

rabbit_users_ensure() { # idempotent: users, passwords, permissions, the inbox policy, the producers' exchanges
  local svc users
  users=$(rabbitmqctl -q list_users --no-table-headers 2>/dev/null | cut -f1)
  for svc in auth rentals billing notifier; do
    if grep -qx "$svc" <<<"$users"; then
      secret "amqp-$svc-password" | rabbitmqctl -q change_password "$svc" >/dev/null
    else
      secret "amqp-$svc-password" | rabbitmqctl -q add_user "$svc" >/dev/null
    fi
    # shellcheck disable=SC2086  # three regexes: configure, write, read
    rabbitmqctl -q set_permissions -p / "$svc" ${RABBIT_PERMISSIONS[$svc]} >/dev/null
  done
  # rentals.inbox queues declared before it had x-delivery-limit keep their arguments; this policy gives
  # them (and every new one) the delivery limit and dead-lettering (docs/ARCHITECTURE.md).
  rabbitmqctl -q set_policy -p / --apply-to queues rentals-inbox '^rentals\.inbox$' \
    '{"delivery-limit": 20, "dead-letter-exchange": "rentals.dlx"}' >/dev/null
  # Consumers only read the producers' exchanges; declare them so start order never matters.
  AMQP_URL="amqp://velo:$(secret amqp-password)@127.0.0.1:$AMQP_PORT/%2F" "$TOOLS/python" - <<'PY'
import os
import pika
connection = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
channel = connection.channel()
for exchange in ("auth.events", "rentals.events", "billing.events"):
    channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
connection.close()
PY
}

rabbitmqctl() { (rabbit_env; "$RABBIT_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" "$@"); }

# ---------------------------------------------------------------- SeaweedFS S3
s3_up() {
  [[ "${VELO_EXTERNAL_S3:-0}" == 1 ]] && { log "S3: external (AWS_ENDPOINT_URL_S3 set)"; bucket_ensure; return; }
  mkdir -p "$RUN/s3"
  (umask 077; cat >"$SECRETS/s3.json" <<EOF
{"identities": [{"name": "velo", "credentials": [{"accessKey": "$AWS_ACCESS_KEY_ID", "secretKey": "$AWS_SECRET_ACCESS_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
  )
  if ! alive seaweedfs; then
    spawn seaweedfs "$RUN/s3" "$TOOLS/weed" mini -dir="$RUN/s3" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -master.telemetry=false -s3.config="$SECRETS/s3.json" -webdav=false \
      -master.port="$(port 9333)" -master.port.grpc="$(port 19333)" \
      -volume.port="$(port 9340)" -volume.port.grpc="$(port 19340)" \
      -filer.port="$(port 8888)" -filer.port.grpc="$(port 18888)" \
      -s3.port="$S3_PORT" -s3.port.grpc="$(port 18333)" -s3.port.iceberg="$(port 8191)" -s3.port.lance="$(port 9101)" \
      -admin.port="$(port 23646)" -admin.port.grpc="$(port 23656)"
  fi
  WATCH=seaweedfs wait_for "SeaweedFS S3" 90 bucket_ensure
}

bucket_ensure() {
  "$TOOLS/python" - <<'EOF'
import os
import boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5))
bucket = os.environ["INVOICES_BUCKET"]
names = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
if bucket not in names:
    s3.create_bucket(Bucket=bucket)
s3.head_bucket(Bucket=bucket)
EOF
}

# ---------------------------------------------------------------- SMTP sink
smtp_up() {
  [[ "${VELO_EXTERNAL_MAIL:-0}" == 1 ]] && { log "mail: external SMTP $EMAIL_HOST:$EMAIL_PORT"; return; }
  mkdir -p "$RUN/mail/tmp" "$RUN/mail/new" "$RUN/mail/cur"   # a Maildir
  alive smtp || spawn smtp "$RUN" "$TOOLS/python" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
    -c aiosmtpd.handlers.Mailbox "$RUN/mail"
  WATCH=smtp wait_for "SMTP sink" 20 tcp_open "$SMTP_PORT"
}

# ---------------------------------------------------------------- Telegram Bot API stand-in
telegram_up() { # tools/fake_telegram: getMe, sendMessage, setWebhook; messages as files in .run/<stack>/telegram/messages
  [[ "${VELO_EXTERNAL_TELEGRAM:-0}" == 1 ]] && { log "Telegram: external Bot API $TELEGRAM_API_BASE_URL"; return; }
  mkdir -p "$RUN/telegram/messages"
  alive telegram || spawn telegram "$RUN" "$TOOLS/python" "$ROOT/tools/fake_telegram/server.py" \
    --port "$TELEGRAM_PORT" --dir "$RUN/telegram" --username "${TELEGRAM_BOT_USERNAME:-velo_local_bot}"
  WATCH=telegram wait_for "fake Telegram Bot API" 20 tcp_open "$TELEGRAM_PORT"
}

# ---------------------------------------------------------------- application processes
svc_env() { # svc_env SERVICE: the service's own variables on top of the stack env
  case "$1" in
    auth)
      export DATABASE_URL="$AUTH_DATABASE_URL" DJANGO_SECRET_KEY="$AUTH_DJANGO_SECRET_KEY"
      export AMQP_URL="${AUTH_AMQP_URL:-$AMQP_URL}" ;;
    rentals)
      export DATABASE_URL="$RENTALS_DATABASE_URL" DJANGO_SECRET_KEY="$RENTALS_DJANGO_SECRET_KEY"
      export AMQP_URL="${RENTALS_AMQP_URL:-$AMQP_URL}" ;;
    billing-worker) export AMQP_URL="${BILLING_AMQP_URL:-$AMQP_URL}" ;;
    notifier)
      export DATABASE_URL="$NOTIFIER_DATABASE_URL" DJANGO_SECRET_KEY="$NOTIFIER_DJANGO_SECRET_KEY"
      export AMQP_URL="${NOTIFIER_AMQP_URL:-$AMQP_URL}" ;;
  esac
  export DJANGO_SETTINGS_MODULE=config.settings.production CONTRACTS_DIR="$ROOT/contracts"
  export AUTH_STATIC_ROOT="$RUN/static/auth" RENTALS_STATIC_ROOT="$RUN/static/rentals"
}

manage() { # manage SERVICE ARGS...
  local svc="$1"; shift
  (svc_env "$svc"; cd "$ROOT/services/$svc" && .venv/bin/python manage.py "$@")
}

# Web server: granian (WSGI), chosen by measurement (BENCHMARKS.md "Worker model"). Blocking threads are
# set explicitly: granian's default opened hundreds of PostgreSQL connections. No access log: every
# request is logged once, as JSON, by the service itself. GUNICORN_* are the older names of the sizes.
# auth's logins are CPU-bound Argon2 hashes holding 19 MiB each: 2 threads per worker keep its processes
# under 150 MB without costing logins/s on 2 cores (BENCHMARKS.md).
WEB_WORKERS="${WEB_WORKERS:-${GUNICORN_WORKERS:-2}}"
WEB_THREADS="${WEB_THREADS:-${GUNICORN_THREADS:-4}}"
AUTH_WEB_THREADS="${AUTH_WEB_THREADS:-2}"
web_up() { # web_up SERVICE PORT THREADS
  local svc="$1" p="$2" threads="$3"
  (svc_env "$svc"; spawn "$svc-web" "$ROOT/services/$svc" .venv/bin/granian --interface wsgi \
    --host 127.0.0.1 --port "$p" --workers "$WEB_WORKERS" --blocking-threads "$threads" --no-ws \
    --respawn-failed-workers --workers-kill-timeout 10 --no-access-log \
    config.wsgi:application)
}

start_app() { # start_app PROCESS
  case "$1" in
    auth-web) web_up auth "$AUTH_PORT" "$AUTH_WEB_THREADS" ;;
    rentals-web) web_up rentals "$RENTALS_PORT" "$WEB_THREADS" ;;
    auth-relay) (svc_env auth; spawn auth-relay "$ROOT/services/auth" .venv/bin/python manage.py outbox_relay) ;;
    rentals-relay) (svc_env rentals; spawn rentals-relay "$ROOT/services/rentals" .venv/bin/python manage.py outbox_relay) ;;
    rentals-consumer) (svc_env rentals; spawn rentals-consumer "$ROOT/services/rentals" .venv/bin/python manage.py consume_events) ;;
    rentals-sweeper) (svc_env rentals; spawn rentals-sweeper "$ROOT/services/rentals" .venv/bin/python manage.py sweep_reservations) ;;
    billing-worker)
      (svc_env billing-worker; spawn billing-worker "$ROOT/services/billing-worker" \
        .venv/bin/celery -A billing worker --loglevel=INFO --concurrency="${BILLING_CONCURRENCY:-4}" \
        --hostname="billing-$STACK@%h" --without-gossip --without-mingle) ;;
    notifier-web) web_up notifier "$NOTIFIER_PORT" "$WEB_THREADS" ;;
    notifier-worker)
      (svc_env notifier; spawn notifier-worker "$ROOT/services/notifier" \
        .venv/bin/celery -A config.celery worker --loglevel=INFO --concurrency="${NOTIFIER_CONCURRENCY:-2}" \
        --hostname="notifier-$STACK@%h" --without-gossip --without-mingle) ;;
    billing-beat)
      (svc_env billing-worker; spawn billing-beat "$ROOT/services/billing-worker" \
        .venv/bin/celery -A billing beat --loglevel=INFO --schedule="$RUN/celerybeat-schedule" --pidfile=) ;;
    gateway) gateway_up ;;
    postgres) pg_up ;;
    rabbitmq) rabbit_up ;;
    seaweedfs) s3_up ;;
    smtp) smtp_up ;;
    telegram) telegram_up ;;
    *) die "unknown process $1" ;;
  esac
}

app_ready() { # app_ready PROCESS: returns once a (re)started web process answers its probe
  case "$1" in
    auth-web) WATCH=auth-web wait_for auth-web 60 http_ok "http://127.0.0.1:$AUTH_PORT/readyz" ;;
    rentals-web) WATCH=rentals-web wait_for rentals-web 60 http_ok "http://127.0.0.1:$RENTALS_PORT/readyz" ;;
    notifier-web) WATCH=notifier-web wait_for notifier-web 60 http_ok "http://127.0.0.1:$NOTIFIER_PORT/readyz" ;;
    notifier-worker) WATCH=notifier-worker wait_for "notifier worker" 90 notifier_ping ;;
  esac
}

gateway_up() {
  local dir="$RUN/nginx"
  mkdir -p "$dir/tmp"
  chmod 1777 "$dir/tmp"
  GATEWAY_LISTEN="127.0.0.1:$GATEWAY_PORT" AUTH_UPSTREAM="127.0.0.1:$AUTH_PORT" RENTALS_UPSTREAM="127.0.0.1:$RENTALS_PORT" \
    NOTIFIER_UPSTREAM="127.0.0.1:$NOTIFIER_PORT" \
    AUTH_TOKEN_RATE="${AUTH_TOKEN_RATE:-60r/m}" AUTH_TOKEN_BURST="${AUTH_TOKEN_BURST:-30}" \
    CORS_ALLOWED_ORIGINS_REGEX="${CORS_ALLOWED_ORIGINS_REGEX:-^https?://(localhost|127\\.0\\.0\\.1)(:[0-9]+)?\$}" \
    ADMIN_UI_ENABLED="${ADMIN_UI_ENABLED:-false}" TRUSTED_PROXIES="${TRUSTED_PROXIES:-}" \
    CONSOLE_ROOT="$ROOT/console/public" CONSOLE_TILE_URL="${CONSOLE_TILE_URL:-}" \
    sh "$ROOT/gateway/render.sh" "$ROOT/gateway/nginx.conf" "$dir" 2>>"$LOGS/gateway.log" || die "gateway config not rendered (see logs/gateway.log)"
  nginx -t -q -e stderr -p "$dir/" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$LOGS/gateway.log" || die "gateway config invalid (see logs/gateway.log)"
  if alive gateway; then
    kill -HUP "$(pid_of gateway)"   # picks up a changed gateway/nginx.conf
    log "gateway reloaded"
  else
    spawn gateway "$dir" nginx -e stderr -p "$dir/" -c "$dir/nginx.conf" -g 'daemon off;'
  fi
  wait_for gateway 20 http_ok "http://127.0.0.1:$GATEWAY_PORT/healthz"
}

WEB_PROCS="auth-web rentals-web notifier-web"
WORKER_PROCS="auth-relay rentals-relay rentals-consumer rentals-sweeper billing-worker billing-beat notifier-worker"
INFRA_PROCS="postgres epmd rabbitmq seaweedfs smtp telegram"

infra_up() {
  load_env
  pg_up
  rabbit_up
  s3_up
  smtp_up
  telegram_up
  log "infrastructure ready"
}

apps_up() {
  load_env
  log "migrating"
  manage auth migrate --noinput >>"$LOGS/migrate.log"
  manage rentals migrate --noinput >>"$LOGS/migrate.log"
  manage notifier migrate --noinput >>"$LOGS/migrate.log"
  manage auth collectstatic --noinput >>"$LOGS/migrate.log"
  manage rentals collectstatic --noinput >>"$LOGS/migrate.log"
  manage auth ensure_admin >>"$LOGS/migrate.log"
  manage rentals seed_demo >>"$LOGS/migrate.log"
  local p
  for p in $WEB_PROCS $WORKER_PROCS; do start_app "$p"; done
  wait_for "auth" 60 http_ok "http://127.0.0.1:$AUTH_PORT/readyz"
  wait_for "rentals" 60 http_ok "http://127.0.0.1:$RENTALS_PORT/readyz"
  wait_for "notifier" 60 http_ok "http://127.0.0.1:$NOTIFIER_PORT/readyz"
  start_app gateway
  wait_for "auth via gateway" 30 http_ok "$GATEWAY_URL/api/auth/readyz"
  wait_for "rentals via gateway" 30 http_ok "$GATEWAY_URL/api/readyz"
  wait_for "notifier via gateway" 30 http_ok "$GATEWAY_URL/api/notifications/readyz"
  # The bot's webhook is the gateway's public address (the local fake Bot API only records it).
  TELEGRAM_WEBHOOK_URL="$PUBLIC_BASE_URL/api/notifications/telegram/webhook" \
    manage notifier telegram_set_webhook >>"$LOGS/migrate.log" || log "warning: telegram setWebhook failed"
  wait_for "billing worker (celery inspect ping)" 90 billing_ping
  log "billing worker answers celery inspect ping"
  wait_for "notifier worker (celery inspect ping)" 90 notifier_ping
  log "notifier worker answers celery inspect ping"
}

notifier_ping() {
  (svc_env notifier; cd "$ROOT/services/notifier" && timeout 20 .venv/bin/celery -A config.celery inspect ping \
    -d "notifier-$STACK@$(hostname)" --timeout 3)
}

billing_ping() {
  (cd "$ROOT/services/billing-worker" && CONTRACTS_DIR="$ROOT/contracts" timeout 20 .venv/bin/celery -A billing inspect ping \
    -d "billing-$STACK@$(hostname)" --timeout 3)
}

down() {
  local p
  for p in gateway $WEB_PROCS $WORKER_PROCS seaweedfs smtp telegram; do stop_proc "$p" & done
  wait
  if alive rabbitmq; then
    (rabbit_env; timeout 30 "$RABBIT_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" stop >/dev/null 2>&1) || true
  fi
  stop_proc rabbitmq
  stop_proc epmd
  stop_proc postgres INT   # fast shutdown
  log "stack stopped"
}

status() {
  local p
  for p in $INFRA_PROCS $WEB_PROCS $WORKER_PROCS gateway; do
    if alive "$p"; then printf '%-18s running  pid %-8s log .run/%s/logs/%s.log\n' "$p" "$(pid_of "$p")" "$STACK" "$p"
    else printf '%-18s stopped\n' "$p"; fi
  done
}

case "$CMD" in
  up)
    write_env
    load_env
    infra_up
    apps_up
    echo
    echo "Velo is up: $GATEWAY_URL   (API docs: $GATEWAY_URL/docs/, operator console: $GATEWAY_URL/console/, mail: .run/$STACK/mail, Telegram: .run/$STACK/telegram/messages, logs: make logs)"
    ;;
  infra-up) write_env; infra_up ;;
  apps-up) apps_up ;;
  env) write_env; cat "$RUN/env.sh" ;;
  down) load_env; down ;;
  reset)
    load_env; down
    rm -rf "$(pg_elsewhere)"
    rm -rf "$RUN"; log "data of the '$STACK' stack deleted" ;;
  start) load_env; start_app "$PROC"; app_ready "$PROC" ;;
  stop)
    load_env
    if [[ "$PROC" == rabbitmq ]] && alive rabbitmq; then
      (rabbit_env; timeout 30 "$RABBIT_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" stop >/dev/null 2>&1) || true
    fi
    stop_proc "$PROC" "${SIGNAL:-TERM}"
    ;;
  restart) load_env; stop_proc "$PROC"; start_app "$PROC"; app_ready "$PROC" ;;
  status) status ;;
  logs)
    status
    echo "Logs: $LOGS/<process>.log   e.g. tail -f .run/$STACK/logs/*.log"
    ;;
  *) echo "usage: $0 up|infra-up|apps-up|down|reset|status|logs|env|start|stop|restart [...]" >&2; exit 2 ;;
esac
