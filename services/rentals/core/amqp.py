import pika
from django.conf import settings


def connection_parameters(url: str | None = None) -> pika.URLParameters:
    params = pika.URLParameters(url or settings.AMQP_URL)
    params.heartbeat = 30
    params.blocked_connection_timeout = 30
    params.socket_timeout = 5
    params.connection_attempts = 1
    params.client_properties = {"connection_name": "velo-rentals"}
    return params


class StopFlag:
    """Set from a signal handler; long-running loops poll it between units of work."""

    def __init__(self) -> None:
        self.stopping = False

    def stop(self, *_args) -> None:
        self.stopping = True
