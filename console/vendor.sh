#!/usr/bin/env bash
# The console loads its libraries from public/vendor/ (same origin, no CDN, no build step). They are the
# files of the npm packages pinned by package-lock.json, copied here and committed so that the gateway
# image and an offline checkout have them:
#   bash console/vendor.sh          npm ci, then copy the files into public/vendor/
#   bash console/vendor.sh --check  npm ci, then fail if public/vendor/ differs from the packages (make test)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
FILES=(
  "leaflet/dist/leaflet.js leaflet.js"
  "leaflet/dist/leaflet.css leaflet.css"
  "leaflet/LICENSE leaflet.LICENSE"
  "chart.js/dist/chart.umd.min.js chart.umd.min.js"
  "chart.js/LICENSE.md chart.js.LICENSE"
)
if [[ ! -f node_modules/.velo-stamp ]] || [[ "$(cat node_modules/.velo-stamp)" != "$(sha256sum package-lock.json | cut -c1-16)" ]]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
  sha256sum package-lock.json | cut -c1-16 >node_modules/.velo-stamp
fi
status=0
for pair in "${FILES[@]}"; do
  read -r src dst <<<"$pair"
  if [[ "${1:-}" == --check ]]; then
    cmp -s "node_modules/$src" "public/vendor/$dst" || { echo "console/public/vendor/$dst differs from node_modules/$src: run bash console/vendor.sh" >&2; status=1; }
  else
    cp "node_modules/$src" "public/vendor/$dst"
  fi
done
exit $status
