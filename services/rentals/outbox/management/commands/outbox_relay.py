import signal

from core.amqp import StopFlag
from django.core.management.base import BaseCommand

from outbox.relay import OutboxRelay


class Command(BaseCommand):
    help = "Publish outbox events to RabbitMQ (exchange rentals.events) until SIGTERM/SIGINT."

    def handle(self, *args, **options):
        stop = StopFlag()
        signal.signal(signal.SIGTERM, stop.stop)
        signal.signal(signal.SIGINT, stop.stop)
        OutboxRelay(stop=stop).run()
