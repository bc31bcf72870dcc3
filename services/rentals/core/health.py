"""Probes: /healthz is alive (no I/O); /readyz checks PostgreSQL and RabbitMQ (503 when either fails).

The same file in rentals and the notifier (tools/check_shared_code.py). READYZ_DETAILS (an optional setting)
names a function whose dict /readyz reports as `details` (the notifier: which channels are on)."""

from django.conf import settings
from django.http import JsonResponse
from django.utils.module_loading import import_string

from core.problems import problem_response
from core.readiness import readiness_checks


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


@require_GET
def readyz(request):
    checks = readiness_checks()
    ready = all(checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {k: "ok" if v else "fail" for k, v in checks.items()},
    }
    if details := getattr(settings, "READYZ_DETAILS", None):
        body["details"] = import_string(details)()
    return JsonResponse(body, status=200 if ready else 503)
