from collections.abc import Callable
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from idempotency.services import idempotent_call

HEADER = "Idempotency-Key"


def idempotent_response(*, request: Request, handler: Callable[[], tuple[int, Any]]) -> Response:
    """Wrap a POST view body: `handler` validates, calls one service, returns (status, data)."""
    status, body, replayed = idempotent_call(
        owner_id=request.user.id,
        key=request.headers.get(HEADER),
        method=request.method,
        path=request.path,
        payload=request.data,
        handler=handler,
    )
    response = Response(body, status=status)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response
