#!/bin/sh
# Render gateway/nginx.conf into an nginx prefix directory.
#   usage: render.sh <template> <prefix-dir>
# Substitutes only the dollar-brace UPPER_CASE variables the template contains, fails when one of them is
# unset or empty, and creates the prefix's tmp/ directory. Then run:
#   nginx -p <prefix-dir> -c <prefix-dir>/nginx.conf -e stderr -g 'daemon off;'
set -eu
template=${1:?usage: render.sh <template> <prefix-dir>}
prefix=${2:?usage: render.sh <template> <prefix-dir>}

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
shell_format=$(for v in $vars; do printf '${%s} ' "$v"; done)
envsubst "$shell_format" < "$template" > "$prefix/nginx.conf.new"
mv "$prefix/nginx.conf.new" "$prefix/nginx.conf"
