#!/bin/sh
# Container entrypoint: render the same template the local stack uses into a writable prefix
# (NGINX_PREFIX, an emptyDir/tmpfs under a read-only root filesystem), then run nginx in the foreground.
set -eu
prefix=${NGINX_PREFIX:-/tmp/nginx}
/usr/local/bin/velo-gateway-render "${NGINX_TEMPLATE:-/etc/velo/nginx.conf.template}" "$prefix"
if [ "$#" -eq 0 ]; then
    exec nginx -p "$prefix" -c "$prefix/nginx.conf" -e stderr -g 'daemon off;'
fi
exec "$@"
