#!/usr/bin/env bash
# Runs jobs of .gitlab-ci.yml on this machine's Docker engine with gitlab-ci-local, which reads the
# pipeline file itself (no GitLab runner). Pinned in tools/gitlab-ci-local (npm ci on first use).
#   scripts/gitlab-ci-local.sh                   the lint and test jobs
#   scripts/gitlab-ci-local.sh lint test:auth    those jobs
# Options passed to gitlab-ci-local:
#   --evaluate-rule-changes=false   a local checkout has no merge base: `rules: changes` count as changed
#   --helper-image PYTHON_IMAGE     the container that fixes file ownership needs only sh, chown and chmod:
#                                   the pipeline's own Python image, instead of the tool's default util image
#   --pull-policy if-not-present    images already on the engine are used as they are
#   --ca-file "$SSL_CERT_FILE"      when this machine names its own CA bundle (a TLS-intercepting proxy), the
#                                   jobs trust the same bundle (uv reads SSL_CERT_FILE, not the system store)
# Needs Docker and rsync (installed here when missing, as root). The build, e2e and deploy jobs need a
# registry and a cluster; `make compose-test` is the local form of the e2e job.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOL="$ROOT/tools/gitlab-ci-local"
if [[ ! -x "$TOOL/node_modules/.bin/gitlab-ci-local" ]]; then
  (cd "$TOOL" && npm ci --no-audit --no-fund --loglevel=error)
fi
if ! command -v rsync >/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "gitlab-ci-local needs rsync (apt-get install rsync)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync >/dev/null
fi
docker info >/dev/null 2>&1 || { echo "no Docker engine answers (see deploy/README.md, make compose-test)" >&2; exit 1; }
python_image=$(sed -n 's/^  PYTHON_IMAGE: *//p' .gitlab-ci.yml)
jobs=("$@")
((${#jobs[@]})) || jobs=(lint test:auth test:rentals test:billing-worker test:notifier)
options=(--evaluate-rule-changes=false --pull-policy if-not-present --helper-image "$python_image")
if [[ -n "${SSL_CERT_FILE:-}" && -f "$SSL_CERT_FILE" ]]; then
  options+=(--ca-file "$SSL_CERT_FILE" --variable SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
fi
status=0
for job in "${jobs[@]}"; do
  "$TOOL/node_modules/.bin/gitlab-ci-local" "${options[@]}" "$job" || status=1
done
exit "$status"
