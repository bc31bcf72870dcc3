"""Public GBFS v3.0 endpoints: no token, cacheable, conditional GET."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from gbfs.conf import gbfs_config
from gbfs.feeds import FeedDocument, feed_document
from gbfs.selectors import DISCOVERY_FEEDS, FEEDS

CONTENT_TYPE = "application/json"


def _first(value: str | None) -> str:
    return (value or "").split(",")[0].strip()


def request_base_url(request: HttpRequest) -> tuple[str, bool]:
    """The base URL clients see, and whether it came from the request (so responses must Vary on it).
    Forwarded headers are honoured, but a forwarded host must still be in ALLOWED_HOSTS."""
    configured = gbfs_config().public_base_url
    if configured:
        return configured, False
    proto = _first(request.META.get("HTTP_X_FORWARDED_PROTO")).lower()
    if proto not in ("http", "https"):
        proto = request.scheme
    host = _first(request.META.get("HTTP_X_FORWARDED_HOST"))
    if not host or not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
        host = request.get_host()
    return f"{proto}://{host}", True


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored."""
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))


def feed_response(*, request: HttpRequest, document: FeedDocument, varies: bool) -> HttpResponse:
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match and _etag_matches(if_none_match, document.etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(document.body, content_type=CONTENT_TYPE)
    response["ETag"] = document.etag
    response["Cache-Control"] = f"public, max-age={document.max_age(now=timezone.now())}"
    response["Last-Modified"] = document.built_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    if varies:
        response["Vary"] = "Host, X-Forwarded-Host, X-Forwarded-Proto"
    return response


class GbfsFeedApi(APIView):
    """One GBFS file. Subclasses name the feed."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    feed = ""

    def get(self, request):
        base_url, varies = request_base_url(request)
        document = feed_document(feed=self.feed, base_url=base_url)
        varies = varies and self.feed in DISCOVERY_FEEDS
        return feed_response(request=request, document=document, varies=varies)


def _feed_view(feed: str):
    schema = extend_schema(
        operation_id=f"gbfs_{feed}",
        tags=["GBFS"],
        summary=f"GBFS v3.0 {feed}.json",
        description="Public GBFS v3.0 file (MobilityData). Conditional GET with If-None-Match answers 304.",
        auth=[],
        responses={200: OpenApiTypes.OBJECT, 304: OpenApiResponse(description="Not modified.")},
    )

    # A function per feed: extend_schema annotates the function object, which subclasses would share.
    def get(self, request):
        return GbfsFeedApi.get(self, request)

    name = f"Gbfs{feed.title().replace('_', '')}Api"
    return type(name, (GbfsFeedApi,), {"feed": feed, "get": schema(get), "__module__": __name__}).as_view()


FEED_VIEWS = {feed: _feed_view(feed) for feed in FEEDS}
