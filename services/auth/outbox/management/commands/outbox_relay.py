from django.core.management.base import BaseCommand

from outbox.relay import OutboxRelay


class Command(BaseCommand):
    help = "Publish outbox events to RabbitMQ (auth.events) until SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Publish what is pending, then exit.")

    def handle(self, *args, **options) -> None:
        if options["once"]:
            from django.conf import settings

            from outbox.relay import channel_open, outbox_publish_pending

            connection, channel = channel_open(
                amqp_url=settings.AMQP_URL, exchange=settings.AUTH_EVENTS_EXCHANGE
            )
            try:
                total = 0
                while sent := outbox_publish_pending(
                    channel=channel,
                    exchange=settings.AUTH_EVENTS_EXCHANGE,
                    batch_size=settings.OUTBOX_BATCH_SIZE,
                ):
                    total += sent
            finally:
                connection.close()
            self.stdout.write(f"published {total} event(s)")
            return
        relay = OutboxRelay()
        relay.install_signal_handlers()
        relay.run()
