#!/usr/bin/env bash
# Static validation of everything deployment-related (no Docker engine or cluster needed).
# One line per check (PASS/FAIL/SKIP); failing checks print their output indented; exit 1 on any FAIL.
#   scripts/validate-deploy.sh            tools from ${TOOLS_VENV:-<repo>/.venv}/bin
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${TOOLS_VENV:-$ROOT/.venv}/bin
K8S_VERSIONS=${K8S_VERSIONS:-1.31 1.37}  # oldest supported and newest bundled
WORK=$(mktemp -d "${TMPDIR:-/tmp}/velo-validate.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT" || exit 1

failed=0
n=0
check() {  # check <name> <command...>
    local name=$1
    shift
    n=$((n + 1))
    if "$@" >"$WORK/out.$n" 2>&1; then
        echo "PASS $name"
    else
        echo "FAIL $name"
        sed 's/^/    /' "$WORK/out.$n" | tail -n 40
        failed=$((failed + 1))
    fi
}
skip() { echo "SKIP $1 ($2)"; }

# --- Dockerfiles ---------------------------------------------------------------------------------
dockerfiles=(gateway/Dockerfile)
for svc in services/*/; do
    dockerfiles+=("${svc}Dockerfile")
done
for df in "${dockerfiles[@]}"; do
    check "hadolint $df" "$TOOLS/hadolint" --failure-threshold error "$df"
done

# --- compose -------------------------------------------------------------------------------------
check "compose-spec schema deploy/compose.yml" \
    "$TOOLS/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yml
check "compose cross-references deploy/compose.yml" "$TOOLS/python" deploy/check_compose.py deploy/compose.yml
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    # Secrets must exist for `config`; use throwaway ones, never the operator's.
    compose_check() {
        cp -r deploy "$WORK/deploy" && rm -rf "$WORK/deploy/secrets"/* &&
            cp deploy/secrets/generate.sh "$WORK/deploy/secrets/" && sh "$WORK/deploy/secrets/generate.sh" >/dev/null &&
            docker compose -f "$WORK/deploy/compose.yml" config --quiet
    }
    check "docker compose config" compose_check
else
    skip "docker compose config" "no working compose CLI"
fi
dup_check() {
    "$TOOLS/python" - "$@" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "deploy")
from check_compose import duplicate_keys
bad = [f"{f}: {p}" for f in sys.argv[1:] for p in duplicate_keys(Path(f).read_text())]
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}
check "no repeated YAML keys (compose, CI, k8s)" dup_check deploy/compose.yml .gitlab-ci.yml deploy/k8s/base/*.yaml deploy/k8s/overlays/*/*.yaml deploy/k8s/overlays/*/patches/*.yaml
check "sh syntax of deploy and gateway scripts" bash -c \
    'for f in deploy/docker/entrypoint.sh deploy/secrets/generate.sh deploy/compose/postgres-init.sh gateway/render.sh gateway/docker-entrypoint.sh; do sh -n "$f" || exit 1; [[ -x "$f" ]] || { echo "$f is not executable"; exit 1; }; done'

# --- GitLab CI -----------------------------------------------------------------------------------
check "gitlab-ci schema .gitlab-ci.yml" "$TOOLS/check-jsonschema" --builtin-schema vendor.gitlab-ci .gitlab-ci.yml

# --- Kubernetes ----------------------------------------------------------------------------------
for overlay in deploy/k8s/overlays/*/; do
    env=$(basename "$overlay")
    out="$WORK/k8s-$env.yaml"
    check "render $overlay (deploy/k8s/render.py)" "$TOOLS/python" deploy/k8s/render.py "$overlay" -o "$out"
    for version in $K8S_VERSIONS; do
        check "kubernetes-validate --strict -k $version $env" \
            "$TOOLS/kubernetes-validate" --strict --quiet -k "$version" "$out"
    done
    if command -v kubectl >/dev/null 2>&1 && kubectl kustomize "$overlay" >"$WORK/kubectl-$env.yaml" 2>"$WORK/kubectl-$env.err"; then
        check "render.py == kubectl kustomize ($env)" \
            "$TOOLS/python" deploy/k8s/render.py "$overlay" -o /dev/null --compare "$WORK/kubectl-$env.yaml"
    else
        skip "render.py == kubectl kustomize ($env)" "no working kubectl kustomize"
    fi
done

# --- gateway -------------------------------------------------------------------------------------
gateway_check() {
    local prefix="$WORK/nginx"
    GATEWAY_LISTEN=127.0.0.1:18080 AUTH_UPSTREAM=127.0.0.1:18001 RENTALS_UPSTREAM=127.0.0.1:18002 \
        CORS_ALLOWED_ORIGINS_REGEX='^https?://(localhost|127\.0\.0\.1)(:[0-9]+)?$' \
        sh gateway/render.sh gateway/nginx.conf "$prefix" &&
        nginx -t -q -p "$prefix" -c "$prefix/nginx.conf" -e stderr
}
if command -v nginx >/dev/null 2>&1; then
    check "nginx -t on rendered gateway/nginx.conf" gateway_check
else
    n=$((n + 1))
    echo "FAIL nginx -t on rendered gateway/nginx.conf"
    echo "    nginx not installed (apt-get install nginx-light gettext-base)"
    failed=$((failed + 1))
fi

if ((failed)); then
    echo "validate-deploy: $failed check(s) failed"
    exit 1
fi
echo "validate-deploy: all checks passed"
