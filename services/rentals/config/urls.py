from core import docs, health
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/healthz", health.healthz, name="api-healthz"),
    path("api/readyz", health.readyz, name="api-readyz"),
    path("api/schema", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs/", docs.SwaggerDocsView.as_view(), name="swagger-ui"),
    path("redoc/", docs.RedocDocsView.as_view(), name="redoc"),
    # One include per app; new apps (gbfs, reservations) add a line here.
    path("api/", include("fleet.urls")),
    path("api/", include("rentals.urls")),
    path("api/", include("wallets.urls")),
    path("api/", include("reservations.urls")),
    path("api/", include("problems.urls")),
    path("api/", include("alerts.urls")),
    path("api/", include("zones.urls")),
    path("api/", include("stats.urls")),
    path("gbfs/", include("gbfs.urls")),
    path("mds/", include("mds.urls")),
]

handler400 = "core.error_views.bad_request"
handler403 = "core.error_views.permission_denied"
handler404 = "core.error_views.not_found"
handler500 = "core.error_views.server_error"
