"""Cross-reference checks of deploy/compose.yml that its JSON Schema cannot express.

- every depends_on target is a service, with a valid condition;
- every secret a service uses is declared, and every declared secret file is written by
  deploy/secrets/generate.sh (or exists);
- every NAME_FILE variable points at a secret mounted into that service;
- every build names an existing Dockerfile (context = repo root);
- compose service names match the Kubernetes objects of deploy/k8s/base where both exist;
- no mapping repeats a key (PyYAML keeps the last one silently, compose rejects the file).

usage: check_compose.py [deploy/compose.yml]   (exit 1 and one line per problem on failure)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# Infrastructure that is external (managed) in Kubernetes, and compose-only one-shot jobs.
COMPOSE_ONLY = {"postgres", "rabbitmq", "s3", "mailpit", "s3-init"}


def _secret_targets(service: dict) -> dict[str, str]:
    targets = {}
    for item in service.get("secrets", []):
        if isinstance(item, str):
            targets[item] = f"/run/secrets/{item}"
        else:
            target = item.get("target", item["source"])
            targets[item["source"]] = target if target.startswith("/") else f"/run/secrets/{target}"
    return targets


def _expand_defaults(text: str) -> str:
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


def duplicate_keys(text: str) -> list[str]:
    problems = []
    stack = [doc for doc in yaml.compose_all(text) if doc is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
            for key in sorted({k for k in keys if keys.count(k) > 1}):
                problems.append(f"line {node.start_mark.line + 1}: key {key!r} repeated in one mapping")
            stack.extend(v for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return problems


def check(compose_path: Path) -> list[str]:
    text = compose_path.read_text()
    problems: list[str] = duplicate_keys(text)
    compose = yaml.safe_load(text)
    base = compose_path.parent
    services: dict[str, dict] = compose.get("services", {})
    declared = compose.get("secrets", {})
    generator = (DEPLOY / "secrets" / "generate.sh").read_text()

    for name, spec in declared.items():
        file = spec.get("file")
        if file is None:
            continue
        path = (base / file).resolve()
        if not path.exists() and path.name not in generator:
            problems.append(f"secret {name}: {file} is neither present nor written by secrets/generate.sh")

    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        for dep, cond in deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps):
            if dep not in services:
                problems.append(f"{name}: depends_on unknown service {dep}")
            condition = (cond or {}).get("condition", "service_started")
            if condition not in CONDITIONS:
                problems.append(f"{name}: depends_on {dep} has unknown condition {condition}")
            if condition == "service_healthy" and services.get(dep, {}).get("healthcheck", {}).get("disable"):
                problems.append(f"{name}: waits for {dep} to be healthy but {dep} disables its healthcheck")
        targets = _secret_targets(svc)
        for secret in targets:
            if secret not in declared:
                problems.append(f"{name}: uses undeclared secret {secret}")
        mounted = {_expand_defaults(t) for t in targets.values()}
        for key, value in (svc.get("environment") or {}).items():
            if key.endswith("_FILE") and str(value).startswith("/run/secrets/") and value not in mounted:
                problems.append(f"{name}: {key}={value} is not a secret mounted into this service")
        build = svc.get("build")
        if build:
            dockerfile = (base / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).resolve()
            if not dockerfile.is_file():
                problems.append(f"{name}: build Dockerfile {dockerfile} does not exist")

    k8s_names = set()
    for manifest in (DEPLOY / "k8s" / "base").glob("*.yaml"):
        for doc in yaml.safe_load_all(manifest.read_text()):
            if doc and doc.get("kind") in {"Deployment", "Service", "Job"}:
                k8s_names.add(doc["metadata"]["name"])
    for name in services:
        if name not in COMPOSE_ONLY and name not in k8s_names:
            problems.append(f"{name}: no Kubernetes Deployment/Service/Job named like it in deploy/k8s/base")
    for name in k8s_names - set(services):
        problems.append(f"{name}: Kubernetes object without a compose service of the same name")
    return problems


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEPLOY / "compose.yml"
    problems = check(path)
    for line in problems:
        print(f"check_compose: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
