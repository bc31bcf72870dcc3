"""Infrastructure code that several services need the same way is kept byte-identical across them.

No service imports another, and each image copies only its own directory, so shared infrastructure lives as
one file per service, and this check (part of `make test` and the pipeline's lint job) fails when the copies
drift. Edit one copy, then copy it over the others (`--fix` does that from the first service listed).
Domain code is never listed here, and a shared file names no service: what differs is a setting
(docs/ARCHITECTURE.md, "Shared infrastructure code").

usage: check_shared_code.py [--fix]   (exit 1 with one line per drifted file)
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

SERVICES = Path(__file__).resolve().parent.parent / "services"

# file (relative to a service's directory) -> the services that keep an identical copy; the first one is
# where --fix copies from. "service:path" names a copy kept under another path in that service.
SHARED = {
    "core/notify.py": ("rentals", "auth"),  # NOTIFY after commit (no database-wide lock in a write)
    "core/postgresql/base.py": ("rentals", "auth", "notifier"),  # the PostgreSQL backend tweak
    "core/serializers.py": ("rentals", "auth"),
    "core/amqp.py": ("rentals", "auth"),  # connection parameters, batch publisher confirms
    "core/listener.py": ("rentals", "auth"),  # LISTEN on a connection of its own
    "outbox/apps.py": ("rentals", "auth"),  # one outbox design: table, emit, relay, commands
    "outbox/models.py": ("rentals", "auth"),
    "outbox/services.py": ("rentals", "auth"),
    "outbox/relay.py": ("rentals", "auth"),
    "outbox/queries.py": ("rentals", "auth"),  # the outbox's hand-written statements
    "core/rows.py": ("rentals", "auth"),  # the one bridge between hand-written SQL and model instances
    "outbox/management/commands/outbox_relay.py": ("rentals", "auth"),
    "outbox/management/commands/prune_outbox.py": ("rentals", "auth"),
    "core/problems.py": ("rentals", "notifier", "auth"),  # problem+json responses
    "core/exception_handlers.py": ("rentals", "notifier", "auth"),  # every error as problem+json
    "core/error_views.py": ("rentals", "notifier", "auth"),
    "core/request_id.py": ("rentals", "notifier", "auth"),
    "core/middleware.py": ("rentals", "notifier", "auth"),
    "core/logging.py": ("rentals", "notifier", "auth"),  # JSON log lines
    "core/probes.py": ("rentals", "notifier"),  # /healthz, /readyz before host validation
    "core/health.py": ("rentals", "notifier"),  # the probe views
    "core/contracts.py": ("rentals", "notifier", "auth", "billing-worker:billing/contracts.py"),  # contracts
    "core/readiness.py": ("rentals", "notifier", "auth"),  # what /readyz checks (database, broker login)
    "core/jwt_keys.py": ("rentals", "notifier"),  # RS256 public keys of auth
    "core/authentication.py": ("rentals", "notifier"),  # stateless JWT verification
    "config/settings/env.py": ("rentals", "notifier", "auth"),  # typed environment readers
}


def _path(service: str, name: str) -> Path:
    service, _, other_name = service.partition(":")
    return SERVICES / service / (other_name or name)


def drifted() -> list[tuple[Path, Path]]:
    pairs = []
    for name, services in SHARED.items():
        first = _path(services[0], name)
        for other in services[1:]:
            copy = _path(other, name)
            if not copy.exists() or not filecmp.cmp(first, copy, shallow=False):
                pairs.append((first, copy))
    return pairs


def main(argv: list[str]) -> int:
    pairs = drifted()
    if "--fix" in argv:
        for first, copy in pairs:
            shutil.copyfile(first, copy)
            print(f"copied {first.relative_to(SERVICES)} -> {copy.relative_to(SERVICES)}")
        return 0
    for first, copy in pairs:
        print(f"{copy.relative_to(SERVICES)} differs from {first.relative_to(SERVICES)}: keep them identical")
    return 1 if pairs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
