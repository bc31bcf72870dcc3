"""The one place where every error becomes application/problem+json."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

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


def _validation_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {key: value if isinstance(value, list) else [value] for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def problem_exception_handler(exc, context):
    request = context.get("request")
    instance = request.path if request is not None else ""
    headers: dict[str, str] = {}

    if isinstance(exc, ApplicationError):
        body = problem_body(
            status=exc.status,
            slug=exc.slug,
            title=exc.title,
            detail=exc.detail,
            instance=instance,
            errors=exc.errors,
        )
        for name, value in (exc.extensions or {}).items():
            body.setdefault(name, value)
        return Response(body, status=exc.status, content_type=PROBLEM_CONTENT_TYPE)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        body = problem_body(
            status=400,
            slug="validation-error",
            title="Validation error",
            detail="The request body or parameters are invalid.",
            instance=instance,
            errors=_validation_errors(exc.detail),
        )
        return Response(body, status=400, content_type=PROBLEM_CONTENT_TYPE)

    if isinstance(exc, exceptions.APIException):
        slug, title = "error", "Error"
        for klass, candidate_slug, candidate_title in _DRF_MAP:
            if isinstance(exc, klass):
                slug, title = candidate_slug, candidate_title
                break
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        status_code = exc.status_code
        if status_code == 403 and slug in ("not-authenticated", "token-invalid"):
            slug, title = "forbidden", "Forbidden"
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = problem_body(status=status_code, slug=slug, title=title, detail=detail, instance=instance)
        return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE, headers=headers)

    if isinstance(exc, OperationalError | InterfaceError):
        # The database is away (restart, failover): say so and when to retry instead of a 500.
        logger.warning("database unavailable", exc_info=exc, extra={"path": instance})
        body = problem_body(
            status=503,
            slug="service-unavailable",
            title="Service unavailable",
            detail="The database is not reachable right now; retry shortly.",
            instance=instance,
        )
        return Response(body, status=503, content_type=PROBLEM_CONTENT_TYPE, headers={"Retry-After": "5"})

    logger.exception("unhandled error", extra={"path": instance})
    body = problem_body(
        status=500,
        slug="internal-error",
        title="Internal server error",
        detail="An unexpected error occurred.",
        instance=instance,
    )
    return Response(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
