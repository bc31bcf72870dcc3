"""Plain Django error views (URLs outside DRF) in the same problem+json shape."""

from core.problems import problem_response


def not_found(request, exception=None):
    return problem_response(
        request=request, status=404, slug="not-found", title="Not found", detail="No such resource."
    )


def server_error(request):
    return problem_response(
        request=request,
        status=500,
        slug="internal-error",
        title="Internal server error",
        detail="An unexpected error occurred.",
    )


def bad_request(request, exception=None):
    return problem_response(
        request=request, status=400, slug="bad-request", title="Bad request", detail="Bad request."
    )


def permission_denied(request, exception=None):
    return problem_response(
        request=request, status=403, slug="forbidden", title="Forbidden", detail="Forbidden."
    )
