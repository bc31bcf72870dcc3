"""Building RFC 9457 problem+json responses (shared by the DRF handler and Django's handlers)."""

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, JsonResponse

from core.exceptions import PROBLEM_BASE
from core.request_id import get_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(
    *,
    request: HttpRequest | None,
    status: int,
    slug: str,
    detail: str,
    title: str | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path if request is not None else None,
        "request_id": get_request_id(),
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_json_response(
    *,
    request: HttpRequest | None,
    status: int,
    slug: str,
    detail: str,
    title: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse(
        problem_body(request=request, status=status, slug=slug, detail=detail, title=title, errors=errors),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
