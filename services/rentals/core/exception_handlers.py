"""The one place where every error becomes application/problem+json (RFC 9457).

The same file in every Django service (tools/check_shared_code.py). A service's own errors are
`core.exceptions.ApplicationError`s: `status`, `slug`, `title`, `detail`, optional `errors`, and optionally
`extensions` (extra members of the problem) and `headers` (e.g. Retry-After)."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from core.exceptions import ApplicationError
from core.problems import PROBLEM_CONTENT_TYPE, problem_body

logger = logging.getLogger(__name__)

_DRF_MAP: list[tuple[type[Exception], str, str]] = [
    (exceptions.NotAuthenticated, "not-authenticated", "Authentication required"),
    (exceptions.AuthenticationFailed, "token-invalid", "Invalid token"),
    (exceptions.PermissionDenied, "forbidden", "Forbidden"),
    (exceptions.NotFound, "not-found", "Not found"),
    (exceptions.MethodNotAllowed, "method-not-allowed", "Method not allowed"),
    (exceptions.NotAcceptable, "not-acceptable", "Not acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported-media-type", "Unsupported media type"),
    (exceptions.ParseError, "malformed-request", "Malformed request"),
    (exceptions.Throttled, "rate-limited", "Too many requests"),
]
# simplejwt's token errors carry a dict ({"detail", "code", "messages"}), not a sentence.
_TOKEN_INVALID_DETAIL = "The access token is invalid, expired or revoked."


def _field_errors(detail: Any) -> dict[str, list[str]]:
    """{field: [message, ...]} as the schemas document it; nested errors become "key: message"."""
    if isinstance(detail, dict):
        return {str(field): _flatten(messages) for field, messages in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, list | tuple):
        return [message for item in messages for message in _flatten(item)]
    if isinstance(messages, dict):
        return [f"{key}: {message}" for key, value in messages.items() for message in _flatten(value)]
    return [str(messages)]


def _problem(
    *,
    instance: str,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_body(
        status=status, slug=slug, title=title, detail=detail, instance=instance, errors=errors
    )
    for name, value in (extensions or {}).items():
        body.setdefault(name, value)
    return Response(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def problem_exception_handler(exc, context):
    request = context.get("request")
    instance = request.path if request is not None else ""

    if isinstance(exc, ApplicationError):
        return _problem(
            instance=instance,
            status=exc.status,
            slug=exc.slug,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            extensions=getattr(exc, "extensions", None),
            headers=getattr(exc, "headers", None),
        )

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        return _problem(
            instance=instance,
            status=400,
            slug="validation-error",
            title="Validation error",
            detail="The request body or parameters are invalid.",
            errors=_field_errors(exc.detail),
        )

    if isinstance(exc, exceptions.APIException):
        slug, title = "error", "Error"
        for klass, candidate_slug, candidate_title in _DRF_MAP:
            if isinstance(exc, klass):
                slug, title = candidate_slug, candidate_title
                break
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait)))
        status_code = exc.status_code
        raw = exc.detail
        code = str(raw.get("code", "")) if isinstance(raw, dict) else getattr(raw, "code", None)
        if slug == "token-invalid" and code == "user_inactive":  # auth: the token of a disabled account
            slug, title, detail = "account-disabled", "Account disabled", "This account has been disabled."
        elif isinstance(raw, str):
            detail = str(raw)
        else:
            detail = _TOKEN_INVALID_DETAIL if slug == "token-invalid" else str(raw)
        if status_code == 403 and slug in ("not-authenticated", "token-invalid"):
            slug, title = "forbidden", "Forbidden"
        return _problem(
            instance=instance, status=status_code, slug=slug, title=title, detail=detail, headers=headers
        )

    if isinstance(exc, OperationalError | InterfaceError):
        # The database is away (restart, failover): say so and when to retry instead of a 500.
        logger.warning("database unavailable", exc_info=exc, extra={"path": instance})
        return _problem(
            instance=instance,
            status=503,
            slug="service-unavailable",
            title="Service unavailable",
            detail="The database is not reachable right now; retry shortly.",
            headers={"Retry-After": "5"},
        )

    logger.exception("unhandled error", extra={"path": instance})
    return _problem(
        instance=instance,
        status=500,
        slug="internal-error",
        title="Internal server error",
        detail="An unexpected error occurred.",
    )
