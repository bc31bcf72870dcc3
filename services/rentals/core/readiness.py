"""What /readyz checks, the same way in every service: PostgreSQL answers a query, and the broker accepts an
AMQP login with this service's own credentials (AMQP_URL), so a wrong password or a missing vhost also makes
the service unready. Each service shapes its own /readyz answer from these checks."""

import logging

import pika
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("readyz: database unreachable", exc_info=True)
        return False


def broker_ok() -> bool:
    params = pika.URLParameters(settings.AMQP_URL)
    params.socket_timeout = 2
    params.blocked_connection_timeout = 2
    params.connection_attempts = 1
    params.stack_timeout = 3
    try:
        pika.BlockingConnection(params).close()
        return True
    except Exception:
        logger.warning("readyz: broker unreachable", exc_info=True)
        return False


def readiness_checks() -> dict[str, bool]:
    """{"database": ok?, "broker": ok?}"""
    return {"database": database_ok(), "broker": broker_ok()}
