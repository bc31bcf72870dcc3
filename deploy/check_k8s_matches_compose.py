"""Kubernetes runs what compose proved: the same images, commands, settings and probes per service.

deploy/compose.yml is what `make compose-test` runs for real; the Kubernetes manifests can only be
validated statically, so this compares a rendered overlay (`kubectl kustomize` output) with compose:
- every compose service that runs a Velo image has a Deployment or Job of the same name with the same
  image (by name: registry and tag belong to the overlay) and the same command;
- every setting compose gives that service (its environment; NAME_FILE counts as NAME) reaches the
  workload in Kubernetes (env, or keys of the ConfigMaps and Secrets in its envFrom), except the ones
  listed in DIFFERENT_BY_DESIGN;
- a service that keeps its image's HEALTHCHECK in compose has a liveness probe asking the same thing
  (the same HTTP path, or the same command).

usage: check_k8s_matches_compose.py deploy/compose.yml RENDERED.yaml   (exit 1, one line per problem)
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
VELO_IMAGES = {"auth", "rentals", "billing-worker", "notifier", "gateway"}
COMPOSE_ONLY = {"s3-init"}  # creates the local S3 bucket; clusters use a managed bucket
# (service or "*", setting or "command") -> why Kubernetes differs from compose on purpose
DIFFERENT_BY_DESIGN = {
    ("*", "AWS_S3_PUBLIC_ENDPOINT_URL"): "compose's S3 is reached by clients on a published port; a "
    "cluster's S3 endpoint is public already",
    ("rentals-migrate", "command"): "compose seeds demo data (seed_demo); clusters are not demos",
    ("billing-worker", "PUBLIC_BASE_URL"): "compose's shared env block; the worker builds no links",
    ("billing-worker", "JWT_ISSUER"): "compose's shared env block; the worker verifies no tokens",
    ("billing-worker", "JWT_AUDIENCE"): "compose's shared env block; the worker verifies no tokens",
    ("billing-beat", "PUBLIC_BASE_URL"): "compose's shared env block; beat builds no links",
    ("billing-beat", "JWT_ISSUER"): "compose's shared env block; beat verifies no tokens",
    ("billing-beat", "JWT_AUDIENCE"): "compose's shared env block; beat verifies no tokens",
    (
        "billing-worker",
        "EMAIL_HOST",
    ): "compose's shared env block; billing mails nothing (the notifier sends receipts)",
    (
        "billing-worker",
        "EMAIL_PORT",
    ): "compose's shared env block; billing mails nothing (the notifier sends receipts)",
    (
        "billing-worker",
        "EMAIL_FROM",
    ): "compose's shared env block; billing mails nothing (the notifier sends receipts)",
    (
        "billing-beat",
        "EMAIL_HOST",
    ): "compose's shared env block; billing mails nothing (the notifier sends receipts)",
    (
        "billing-beat",
        "EMAIL_PORT",
    ): "compose's shared env block; billing mails nothing (the notifier sends receipts)",
    (
        "billing-beat",
        "EMAIL_FROM",
    ): "compose's shared env block; billing mails nothing (the notifier sends receipts)",
    (
        "notifier-migrate",
        "TELEGRAM_BOT_TOKEN",
    ): "compose's shared notifier env block; migrations send nothing",
    (
        "notifier-migrate",
        "TELEGRAM_API_BASE_URL",
    ): "compose's shared notifier env block; migrations send nothing",
    ("notifier-migrate", "TELEGRAM_WEBHOOK_SECRET"): "compose's shared notifier env block",
}


def _expand(text: str) -> str:
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


def _image_name(image: str) -> str:
    return _expand(image).rsplit("/", 1)[-1].split(":", 1)[0]


def _healthcheck(dockerfile: Path) -> str | None:
    """The HEALTHCHECK of an image as a comparable string: its URL path, or its command."""
    text = dockerfile.read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.MULTILINE)
    if not match:
        return None
    command = yaml.safe_load(match.group(1))
    url = re.search(r"https?://127\.0\.0\.1:\d+(/[A-Za-z0-9_/-]*)", " ".join(command))
    if url:
        return f"http {url.group(1)}"
    if command[0] == "/usr/local/bin/velo-entrypoint":  # compose checks see no entrypoint; pods do
        command = command[1:]
    return "exec " + shlex.join(command).replace(" >/dev/null", "")


def _probe(container: dict) -> str | None:
    probe = container.get("livenessProbe") or {}
    if "httpGet" in probe:
        return f"http {probe['httpGet']['path']}"
    if "exec" in probe:
        return "exec " + shlex.join(probe["exec"]["command"]).replace(" >/dev/null", "")
    return None


def compare(compose_file: Path, rendered: Path) -> list[str]:
    compose = yaml.safe_load(compose_file.read_text())
    objects = [o for o in yaml.safe_load_all(rendered.read_text()) if o]
    keys = {
        (o["kind"], o["metadata"]["name"]): set((o.get("data") or {}) | (o.get("stringData") or {}))
        for o in objects
        if o["kind"] in ("ConfigMap", "Secret")
    }
    workloads = {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]["containers"][0]
        for o in objects
        if o["kind"] in ("Deployment", "Job")
    }
    dockerfiles = {
        "gateway": ROOT / "gateway/Dockerfile",
        **{name: ROOT / f"services/{name}/Dockerfile" for name in VELO_IMAGES - {"gateway"}},
    }
    problems = []
    for name, service in compose["services"].items():
        image = _image_name(service.get("image", ""))
        if image not in VELO_IMAGES or name in COMPOSE_ONLY:
            continue
        container = workloads.get(name)
        if container is None:
            problems.append(f"{name}: runs in compose, no Deployment or Job of that name")
            continue
        if _image_name(container["image"]) != image:
            problems.append(f"{name}: image {container['image']} in Kubernetes, {image} in compose")
        command = service.get("command")
        if command and (name, "command") not in DIFFERENT_BY_DESIGN:
            k8s_command = (container.get("command") or []) + (container.get("args") or [])
            if k8s_command != command:
                problems.append(f"{name}: command {k8s_command} in Kubernetes, {command} in compose")
        provided = {e["name"] for e in container.get("env", [])}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                provided |= keys.get(("ConfigMap", source["configMapRef"]["name"]), set())
            if "secretRef" in source:
                provided |= keys.get(("Secret", source["secretRef"]["name"]), set())
        for setting in service.get("environment") or {}:
            setting = setting.removesuffix("_FILE")
            by_design = (name, setting) in DIFFERENT_BY_DESIGN or ("*", setting) in DIFFERENT_BY_DESIGN
            if setting not in provided and not by_design:
                problems.append(f"{name}: compose sets {setting}, Kubernetes does not")
        healthcheck = service.get("healthcheck") or {}
        if not healthcheck.get("disable"):
            expected = _healthcheck(dockerfiles[image])
            if expected and _probe(container) != expected:
                problems.append(f"{name}: liveness probe {_probe(container)!r}, compose checks {expected!r}")
    return problems


if __name__ == "__main__":
    found = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(found))
    sys.exit(1 if found else 0)
