from core import health
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/notifications/healthz", health.healthz, name="api-healthz"),
    path("api/notifications/readyz", health.readyz, name="api-readyz"),
    path("api/notifications/schema", SpectacularJSONAPIView.as_view(), name="schema"),
    path("api/notifications/", include("riders.urls")),
]

handler400 = "core.error_views.bad_request"
handler403 = "core.error_views.permission_denied"
handler404 = "core.error_views.not_found"
handler500 = "core.error_views.server_error"
