"""Probes: /healthz is alive (no I/O); /readyz checks PostgreSQL and RabbitMQ (503 when either fails) and
reports in its details which channels are on (Telegram is off without TELEGRAM_BOT_TOKEN; that is not a
failure)."""

import logging

import pika
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from core.problems import problem_response

logger = logging.getLogger(__name__)


def require_GET(view):
    """Like Django's require_GET, but the 405 is problem+json like every other error here."""

    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = problem_response(
                request=request,
                status=405,
                slug="method-not-allowed",
                title="Method not allowed",
                detail=f"Method {request.method} is not allowed here.",
            )
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("readyz: database unreachable", exc_info=True)
        return False


def _broker_ok() -> bool:
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


def channel_details() -> dict[str, str]:
    telegram = "on" if settings.TELEGRAM_BOT_TOKEN else "off: TELEGRAM_BOT_TOKEN is not set"
    return {"email": "on", "telegram": telegram}


@require_GET
def readyz(request):
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {k: "ok" if v else "fail" for k, v in checks.items()},
        "details": {"channels": channel_details()},
    }
    return JsonResponse(body, status=200 if ready else 503)
