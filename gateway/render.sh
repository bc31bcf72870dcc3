#!/bin/sh
# Render gateway/nginx.conf into an nginx prefix directory.
#   usage: render.sh <template> <prefix-dir>
# Substitutes only the dollar-brace UPPER_CASE variables the template contains, fails when one of them is
# unset or empty, and creates the prefix's tmp/ directory. TRUSTED_PROXIES (CIDR list, comma or space
# separated, may be empty) becomes trusted-proxies.conf (set_real_ip_from) and trusted-proxies.geo (the
# geo block's entries) beside nginx.conf. Then run:
#   nginx -p <prefix-dir> -c <prefix-dir>/nginx.conf -e stderr -g 'daemon off;'
set -eu
template=${1:?usage: render.sh <template> <prefix-dir>}
prefix=${2:?usage: render.sh <template> <prefix-dir>}

# Derived: the Retry-After of the gateway's own 429s is one request's share of AUTH_TOKEN_RATE (N r/s or N r/m).
if [ -z "${AUTH_TOKEN_RETRY_AFTER:-}" ]; then
    case "${AUTH_TOKEN_RATE:-}" in
        *r/m) n=${AUTH_TOKEN_RATE%r/m}; case "$n" in '' | *[!0-9]* | 0) ;; *) AUTH_TOKEN_RETRY_AFTER=$(((60 + n - 1) / n)) ;; esac ;;
        *r/s) AUTH_TOKEN_RETRY_AFTER=1 ;;
    esac
    export AUTH_TOKEN_RETRY_AFTER="${AUTH_TOKEN_RETRY_AFTER:-1}"
fi

# Derived: the operator console's tile server. CONSOLE_TILE_URL is a Leaflet URL template ({s}, {z}, {x}, {y}
# placeholders) or empty; its origin ({s} becomes *) joins the console's CSP img-src, and the URL is handed to
# the console in /console/config.json. With tiles, img-src also allows data: images: Leaflet puts a data: GIF
# into a tile that failed or was dropped (an image, never a script).
tile_url=${CONSOLE_TILE_URL:-}
case "$tile_url" in
    "") CONSOLE_IMG_SRC="'self'"; CONSOLE_CONFIG_JSON='{"tile_url":null}' ;;
    http://*/* | https://*/*)
        case "$tile_url" in
            *[!A-Za-z0-9._~:/?#@!\&+,\;=%{}-]*)
                echo "render.sh: CONSOLE_TILE_URL contains characters a tile URL template does not need" >&2
                exit 2 ;;
        esac
        origin=$(printf '%s' "$tile_url" | sed -E 's#^(https?://[^/]+)/.*$#\1#; s#\{s\}#*#')
        CONSOLE_IMG_SRC="'self' data: $origin"
        CONSOLE_CONFIG_JSON="{\"tile_url\":\"$tile_url\"}" ;;
    *)
        echo "render.sh: CONSOLE_TILE_URL must be an http(s) URL template or empty" >&2
        exit 2 ;;
esac
export CONSOLE_IMG_SRC CONSOLE_CONFIG_JSON

vars=$(grep -o '\${[A-Z_][A-Z0-9_]*}' "$template" | sort -u | tr -d '${}')
missing=""
for v in $vars; do
    eval "val=\${$v:-}"
    [ -n "$val" ] || missing="$missing $v"
done
if [ -n "$missing" ]; then
    echo "render.sh: required variables unset or empty:$missing" >&2
    exit 2
fi

mkdir -p "$prefix/tmp"
: > "$prefix/trusted-proxies.conf.new"
: > "$prefix/trusted-proxies.geo.new"
for cidr in $(printf '%s' "${TRUSTED_PROXIES:-}" | tr ',' ' '); do
    case "$cidr" in
        *[!0-9A-Fa-f.:/]* | "" | /* | */ | */*/*)
            echo "render.sh: TRUSTED_PROXIES entry '$cidr' is not an address or CIDR" >&2
            exit 2 ;;
    esac
    echo "set_real_ip_from $cidr;" >> "$prefix/trusted-proxies.conf.new"
    echo "$cidr 1;" >> "$prefix/trusted-proxies.geo.new"
done
mv "$prefix/trusted-proxies.conf.new" "$prefix/trusted-proxies.conf"
mv "$prefix/trusted-proxies.geo.new" "$prefix/trusted-proxies.geo"

shell_format=$(for v in $vars; do printf '${%s} ' "$v"; done)
envsubst "$shell_format" < "$template" > "$prefix/nginx.conf.new"
mv "$prefix/nginx.conf.new" "$prefix/nginx.conf"
