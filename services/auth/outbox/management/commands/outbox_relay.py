import signal

from core.amqp import StopFlag
from django.conf import settings
from django.core.management.base import BaseCommand

from outbox.relay import OutboxRelay


class Command(BaseCommand):
    help = f"Publish outbox events to RabbitMQ ({settings.OUTBOX_EXCHANGE}) until SIGTERM/SIGINT."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Publish what is pending, then exit.")

    def handle(self, *args, **options) -> None:
        stop = StopFlag()
        signal.signal(signal.SIGTERM, stop.stop)
        signal.signal(signal.SIGINT, stop.stop)
        relay = OutboxRelay(stop=stop)
        if not options["once"]:
            relay.run()
            return
        relay.connect()
        try:
            total = 0
            while not stop.stopping and (published := relay.publish_batch()):
                total += published
        finally:
            relay.close()
        self.stdout.write(f"published {total} event(s)")
