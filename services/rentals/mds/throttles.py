"""The MDS rate limit, per agency client (the verified token's `sub`), whichever of its tokens it uses."""

from agencies.services import agency_request_admit
from django.conf import settings
from rest_framework.throttling import BaseThrottle


class AgencyRateThrottle(BaseThrottle):
    """MDS_RATE_PER_SECOND with bursts of MDS_RATE_BURST, counted in the database so every web process
    shares one budget per agency; a refusal is a 429 problem+json with Retry-After (the exception handler).
    Runs after the permission check, so only verified agency tokens are counted."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        rate = settings.MDS_RATE_PER_SECOND
        if rate <= 0:
            return True
        self._wait = agency_request_admit(
            client_id=request.user.id, rate_per_second=rate, burst=settings.MDS_RATE_BURST
        )
        return self._wait == 0

    def wait(self) -> float | None:
        return self._wait
