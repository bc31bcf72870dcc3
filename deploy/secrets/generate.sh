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
put payments-webhook-secret "$(rand 32)"
put admin-password "$(rand 12)"

put postgres-password "$(rand 16)"
put auth-db-password "$(rand 16)"
put rentals-db-password "$(rand 16)"
put auth-database-url "postgres://auth:$(cat "$dir/auth-db-password")@postgres:5432/auth"
put rentals-database-url "postgres://rentals:$(cat "$dir/rentals-db-password")@postgres:5432/rentals"

put rabbitmq-password "$(rand 16)"
put amqp-url "amqp://velo:$(cat "$dir/rabbitmq-password")@rabbitmq:5672/%2F"
if [ ! -s "$dir/rabbitmq.conf" ]; then
    printf 'default_user = velo\ndefault_pass = %s\n' "$(cat "$dir/rabbitmq-password")" > "$dir/rabbitmq.conf"
    echo "generated deploy/secrets/rabbitmq.conf"
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
