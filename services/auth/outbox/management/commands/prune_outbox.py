import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from outbox.services import outbox_prune


class Command(BaseCommand):
    help = (
        "Delete published outbox rows older than OUTBOX_RETENTION_HOURS in batches (unpublished rows are "
        "kept). The relay does the same every RETENTION_PRUNE_INTERVAL_SECONDS."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hours", type=float, default=None, help="Override OUTBOX_RETENTION_HOURS.")
        parser.add_argument(
            "--batch-size", type=int, default=None, help="Rows per transaction (RETENTION_PRUNE_BATCH_SIZE)."
        )

    def handle(self, *args, **options) -> None:
        hours = options["hours"] if options["hours"] is not None else settings.OUTBOX_RETENTION_HOURS
        batch_size = options["batch_size"] or settings.RETENTION_PRUNE_BATCH_SIZE
        older_than = timezone.now() - dt.timedelta(hours=hours)
        total = 0
        while deleted := outbox_prune(older_than=older_than, batch_size=batch_size):
            total += deleted
        self.stdout.write(f"deleted {total} published outbox event(s) older than {hours:g} h")
