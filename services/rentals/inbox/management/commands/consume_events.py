import signal

from core.amqp import StopFlag
from django.core.management.base import BaseCommand

from inbox.consumers import InboxConsumer


class Command(BaseCommand):
    help = (
        "Consume rentals.inbox (invoice.issued, reconciliation, user.deactivated/reactivated) until SIGTERM."
    )

    def handle(self, *args, **options):
        stop = StopFlag()
        signal.signal(signal.SIGTERM, stop.stop)
        signal.signal(signal.SIGINT, stop.stop)
        InboxConsumer(stop=stop).run()
