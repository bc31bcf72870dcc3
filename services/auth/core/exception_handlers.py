"""One exception handler: every error leaves the service as application/problem+json (RFC 9457)."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JwtAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken

from core.exceptions import ApplicationError
from core.problems import PROBLEM_CONTENT_TYPE, problem_body, problem_json_response

logger = logging.getLogger(__name__)

_SLUGS: dict[type[drf.APIException], tuple[str, str]] = {
    drf.NotAuthenticated: ("not-authenticated", "Authentication credentials were not provided."),
    drf.PermissionDenied: ("forbidden", "You do not have permission to perform this action."),
    drf.NotFound: ("not-found", "The resource does not exist."),
    drf.MethodNotAllowed: ("method-not-allowed", ""),
    drf.NotAcceptable: ("not-acceptable", ""),
    drf.UnsupportedMediaType: ("unsupported-media-type", ""),
    drf.ParseError: ("malformed-request", ""),
    drf.Throttled: ("rate-limited", ""),
}


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(field): _flatten(messages) for field, messages in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, list | tuple):
        flat: list[str] = []
        for message in messages:
            flat.extend(_flatten(message))
        return flat
    if isinstance(messages, dict):
        return [f"{key}: {msg}" for key, value in messages.items() for msg in _flatten(value)]
    return [str(messages)]


def _response(request: HttpRequest | None, status: int, slug: str, detail: str, **kwargs: Any) -> Response:
    headers = kwargs.pop("headers", None) or {}
    body = problem_body(request=request, status=status, slug=slug, detail=detail, **kwargs)
    response = Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    django_request = getattr(request, "_request", request)

    if isinstance(exc, ApplicationError):
        return _response(
            django_request,
            exc.status,
            exc.slug,
            exc.detail,
            title=exc.title,
            errors=exc.errors,
            headers=exc.headers,
        )
    if isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    if isinstance(exc, drf.ValidationError):
        return _response(
            django_request,
            400,
            "validation-error",
            "The request contains invalid fields.",
            title="Validation error",
            errors=_field_errors(exc.detail),
        )
    if isinstance(exc, InvalidToken | JwtAuthenticationFailed | drf.AuthenticationFailed):
        headers = {"WWW-Authenticate": 'Bearer realm="api"'}
        detail = exc.detail  # simplejwt wraps it as {"detail": ..., "code": ...}
        code = str(detail.get("code", "")) if isinstance(detail, dict) else getattr(detail, "code", None)
        if code == "user_inactive":
            return _response(
                django_request, 401, "account-disabled", "This account has been disabled.", headers=headers
            )
        return _response(
            django_request,
            401,
            "token-invalid",
            "The access token is invalid, expired or revoked.",
            title="Invalid token",
            headers=headers,
        )
    if isinstance(exc, drf.APIException):
        slug, default = next(
            ((s, d) for cls, (s, d) in _SLUGS.items() if isinstance(exc, cls)), ("error", "")
        )
        headers: dict[str, str] = {}
        if isinstance(exc, drf.NotAuthenticated):
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait)))
        detail = exc.detail if isinstance(exc.detail, str) else default
        return _response(django_request, exc.status_code, slug, str(detail or default), headers=headers)

    if isinstance(exc, OperationalError | InterfaceError):
        # The database is away (restart, failover): say so and when to retry instead of a 500.
        logger.warning("Database unavailable", exc_info=exc)
        return _response(
            django_request,
            503,
            "service-unavailable",
            "The database is not reachable right now; retry shortly.",
            title="Service unavailable",
            headers={"Retry-After": "5"},
        )
    logger.exception("Unhandled error", exc_info=exc)
    return _response(django_request, 500, "internal-error", "An unexpected error occurred.")


# Django-level handlers (URL not found, errors outside DRF views) use the same shape.
def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_json_response(request=request, status=400, slug="bad-request", detail="Bad request.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_json_response(request=request, status=403, slug="forbidden", detail="Forbidden.")


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_json_response(
        request=request, status=404, slug="not-found", detail="No resource at this path."
    )


def handler500(request: HttpRequest) -> JsonResponse:
    return problem_json_response(
        request=request, status=500, slug="internal-error", detail="An unexpected error occurred."
    )
