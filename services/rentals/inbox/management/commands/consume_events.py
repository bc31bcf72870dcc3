import signal
import threading

from core.amqp import StopFlag
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from inbox.consumers import InboxConsumer

DEFAULT_THREADS = 4


def _consume(stop: StopFlag) -> None:
    try:
        InboxConsumer(stop=stop).run()
    finally:
        connections.close_all()  # this thread's own database connection


class Command(BaseCommand):
    help = (
        "Consume rentals.inbox (invoice.issued, reconciliation, user.deactivated/reactivated, "
        "agency_client.revoked) until SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help="competing consumers in this process, each with its own broker connection and database "
            f"connection (default {DEFAULT_THREADS}); applying a message is idempotent under row locks",
        )

    def handle(self, *args, **options):
        stop = StopFlag()
        signal.signal(signal.SIGTERM, stop.stop)
        signal.signal(signal.SIGINT, stop.stop)
        failed = False
        threads = [
            threading.Thread(target=_consume, args=(stop,), name=f"inbox-{index}", daemon=True)
            for index in range(max(1, options["threads"]))
        ]
        for thread in threads:
            thread.start()
        # Timed joins keep the main thread responsive to signals. A consumer that died unexpectedly stops
        # the others and the process exits non-zero, so its supervisor restarts the whole consumer.
        while any(thread.is_alive() for thread in threads):
            if not stop.stopping and not all(thread.is_alive() for thread in threads):
                stop.stop()
                failed = True
            for thread in threads:
                thread.join(timeout=0.5)
        if failed:
            raise CommandError("an inbox consumer thread stopped unexpectedly")
