"""Root probes for orchestrators, answered before host validation."""

from core import health


class ProbeMiddleware:
    """Answers the root probes (/healthz, /readyz) before anything reads the Host header.

    Docker health checks and kubelet probes name no public host; they must not depend on ALLOWED_HOSTS
    (PUBLIC_HOSTS without localhost once took the whole compose stack down). Everything else, the
    /api/ probes included, still goes through host validation.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = {"/healthz": health.healthz, "/readyz": health.readyz}.get(request.path_info)
        if view is None:
            return self.get_response(request)
        return view(request)
