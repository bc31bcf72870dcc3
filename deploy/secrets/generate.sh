#!/bin/sh
# Generate the local secrets deploy/compose.yml reads (compose `secrets:` from files; nothing is baked
# into images). Idempotent: existing files are kept, so re-running never rotates anything by accident.
#   usage: deploy/secrets/generate.sh            (needs openssl)
# Files are mode 0644 inside a 0700 directory: compose bind-mounts them into containers running as
# non-root users whose uid differs from yours, so they must be readable there; the directory keeps
# other local users out.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
umask 022
chmod 700 "$dir"

rand() { openssl rand -hex "${1:-32}"; }
put() {  # put <name> <value>: write once
    if [ ! -s "$dir/$1" ]; then
        printf '%s\n' "$2" > "$dir/$1"
        echo "generated deploy/secrets/$1"
    fi
}

# RS256 signing key pair of the auth service (kid = JWT_SIGNING_KID in compose, default velo-1).
if [ ! -s "$dir/jwt-signing.pem" ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/jwt-signing.pem" 2>/dev/null
    chmod 644 "$dir/jwt-signing.pem"
    rm -f "$dir/jwt-signing.pub.pem"
    echo "generated deploy/secrets/jwt-signing.pem"
fi
if [ ! -s "$dir/jwt-signing.pub.pem" ]; then
    openssl pkey -in "$dir/jwt-signing.pem" -pubout -out "$dir/jwt-signing.pub.pem"
    echo "generated deploy/secrets/jwt-signing.pub.pem"
fi

put auth-secret-key "$(rand 32)"
put rentals-secret-key "$(rand 32)"
put notifier-secret-key "$(rand 32)"
put telegram-webhook-secret "$(rand 24)"
put payments-webhook-secret "$(rand 32)"
put admin-password "$(rand 12)"

put postgres-password "$(rand 16)"
put auth-db-password "$(rand 16)"
put rentals-db-password "$(rand 16)"
put notifier-db-password "$(rand 16)"
put auth-database-url "postgres://auth:$(cat "$dir/auth-db-password")@postgres:5432/auth"
put rentals-database-url "postgres://rentals:$(cat "$dir/rentals-db-password")@postgres:5432/rentals"
put notifier-database-url "postgres://notifier:$(cat "$dir/notifier-db-password")@postgres:5432/notifier"

put rabbitmq-password "$(rand 16)"
put amqp-url "amqp://velo:$(cat "$dir/rabbitmq-password")@rabbitmq:5672/%2F"
if [ ! -s "$dir/rabbitmq.conf" ]; then
    printf 'default_user = velo\ndefault_pass = %s\n' "$(cat "$dir/rabbitmq-password")" > "$dir/rabbitmq.conf"
    echo "generated deploy/secrets/rabbitmq.conf"
fi

# One broker user per service, allowed only its own exchanges and queues (docs/ARCHITECTURE.md, "Broker
# users"; the same regexes as scripts/stack.sh), and the definitions the broker imports at every boot
# (compose/rabbitmq-definitions.conf): users, permissions, the producers' exchanges, the rentals-inbox
# policy. velo stays the administrator (amqp-url, for operators).
put rabbitmq-auth-password "$(rand 16)"
put rabbitmq-rentals-password "$(rand 16)"
put rabbitmq-billing-password "$(rand 16)"
put rabbitmq-notifier-password "$(rand 16)"
put auth-amqp-url "amqp://auth:$(cat "$dir/rabbitmq-auth-password")@rabbitmq:5672/%2F"
put rentals-amqp-url "amqp://rentals:$(cat "$dir/rabbitmq-rentals-password")@rabbitmq:5672/%2F"
put billing-amqp-url "amqp://billing:$(cat "$dir/rabbitmq-billing-password")@rabbitmq:5672/%2F"
put notifier-amqp-url "amqp://notifier:$(cat "$dir/rabbitmq-notifier-password")@rabbitmq:5672/%2F"
# Definitions written before the notifier existed lack its user: write them again (same passwords).
if [ -s "$dir/rabbitmq-definitions.json" ] && ! grep -q '"notifier"' "$dir/rabbitmq-definitions.json"; then
    rm -f "$dir/rabbitmq-definitions.json"
fi
if [ ! -s "$dir/rabbitmq-definitions.json" ]; then
    cat <<'JSON' | sed -e "s/@velo@/$(cat "$dir/rabbitmq-password")/" \
        -e "s/@auth@/$(cat "$dir/rabbitmq-auth-password")/" \
        -e "s/@rentals@/$(cat "$dir/rabbitmq-rentals-password")/" \
        -e "s/@billing@/$(cat "$dir/rabbitmq-billing-password")/" \
        -e "s/@notifier@/$(cat "$dir/rabbitmq-notifier-password")/" > "$dir/rabbitmq-definitions.json"
{
  "users": [
    {"name": "velo", "password": "@velo@", "tags": "administrator"},
    {"name": "auth", "password": "@auth@", "tags": ""},
    {"name": "rentals", "password": "@rentals@", "tags": ""},
    {"name": "billing", "password": "@billing@", "tags": ""},
    {"name": "notifier", "password": "@notifier@", "tags": ""}
  ],
  "vhosts": [{"name": "/"}],
  "permissions": [
    {"user": "velo", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "auth", "vhost": "/", "configure": "^auth\\.events$", "write": "^auth\\.events$", "read": "^$"},
    {"user": "rentals", "vhost": "/",
     "configure": "^(rentals\\.events|rentals\\.inbox|rentals\\.inbox\\.dlq|rentals\\.dlx)$",
     "write": "^(rentals\\.events|rentals\\.inbox|rentals\\.inbox\\.dlq|rentals\\.dlx)$",
     "read": "^(rentals\\.events|rentals\\.inbox|rentals\\.inbox\\.dlq|rentals\\.dlx|auth\\.events|billing\\.events)$"},
    {"user": "billing", "vhost": "/",
     "configure": "^(billing\\..*|celery.*|.*pidbox|amq\\.gen-.*)$",
     "write": "^(billing\\..*|celery.*|.*pidbox|amq\\.gen-.*)$",
     "read": "^(billing\\..*|celery.*|.*pidbox|amq\\.gen-.*|rentals\\.events)$"},
    {"user": "notifier", "vhost": "/",
     "configure": "^(notifier\\..*|celery.*|.*pidbox|amq\\.gen-.*)$",
     "write": "^(notifier\\..*|celery.*|.*pidbox|amq\\.gen-.*)$",
     "read": "^(notifier\\..*|celery.*|.*pidbox|amq\\.gen-.*|auth\\.events|rentals\\.events|billing\\.events)$"}
  ],
  "exchanges": [
    {"name": "auth.events", "vhost": "/", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}},
    {"name": "rentals.events", "vhost": "/", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}},
    {"name": "billing.events", "vhost": "/", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}
  ],
  "policies": [
    {"vhost": "/", "name": "rentals-inbox", "pattern": "^rentals\\.inbox$", "apply-to": "queues", "priority": 0,
     "definition": {"delivery-limit": 20, "dead-letter-exchange": "rentals.dlx"}}
  ]
}
JSON
    echo "generated deploy/secrets/rabbitmq-definitions.json"
fi

put s3-access-key-id "velo$(rand 8)"
put s3-secret-access-key "$(rand 24)"
if [ ! -s "$dir/s3.json" ]; then
    cat > "$dir/s3.json" <<JSON
{"identities": [{"name": "velo",
  "credentials": [{"accessKey": "$(cat "$dir/s3-access-key-id")", "secretKey": "$(cat "$dir/s3-secret-access-key")"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
JSON
    echo "generated deploy/secrets/s3.json"
fi

echo "secrets ready in deploy/secrets (admin login: \$ADMIN_EMAIL / deploy/secrets/admin-password)"
