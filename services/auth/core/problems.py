"""RFC 9457 problem documents, shared by the DRF handler and plain Django error views."""

from typing import Any

from django.http import HttpRequest, JsonResponse

from core.request_id import get_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://velo.example/problems/"


def problem_body(
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    errors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": get_request_id(),
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(
    *,
    request: HttpRequest,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    body = problem_body(status=status, slug=slug, title=title, detail=detail, instance=request.path)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)
