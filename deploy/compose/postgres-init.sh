#!/bin/sh
# First start of the postgres volume only (docker-entrypoint-initdb.d): one role and one database per
# service, passwords read from the compose secrets. A volume initialised before the notifier existed has
# no notifier database: create it once by hand (deploy/README.md, "Upgrading: the notifier").
set -eu
for svc in auth rentals notifier; do
    password=$(cat "${SECRETS_DIR:-/run/secrets}/${svc}-db-password")
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v role="$svc" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN CREATEDB PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
