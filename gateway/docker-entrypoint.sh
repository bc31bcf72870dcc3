#!/bin/sh
# Container entrypoint: render the same template the local stack uses into a writable prefix
# (NGINX_PREFIX, an emptyDir/tmpfs under a read-only root filesystem), then run nginx in the foreground.
# NGINX_WORKER_PROCESSES replaces the template's `worker_processes auto`: in a container "auto" counts
# the node's CPUs, not the pod's limit, and each worker costs memory.
set -eu
prefix=${NGINX_PREFIX:-/tmp/nginx}
"${VELO_GATEWAY_RENDER:-/usr/local/bin/velo-gateway-render}" "${NGINX_TEMPLATE:-/etc/velo/nginx.conf.template}" "$prefix"
if [ -n "${NGINX_WORKER_PROCESSES:-}" ]; then
    case "$NGINX_WORKER_PROCESSES" in
        auto | *[!0-9]* | 0) [ "$NGINX_WORKER_PROCESSES" = auto ] || {
            echo "docker-entrypoint: NGINX_WORKER_PROCESSES must be a positive number or auto" >&2
            exit 64
        } ;;
    esac
    sed -i "s/^worker_processes auto;/worker_processes $NGINX_WORKER_PROCESSES;/" "$prefix/nginx.conf"
fi
if [ "$#" -eq 0 ]; then
    exec nginx -p "$prefix" -c "$prefix/nginx.conf" -e stderr -g 'daemon off;'
fi
exec "$@"
