from core.apis import HealthzApi, ProbeHealthzApi, ProbeReadyzApi, ReadyzApi
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView

health = [
    path("healthz", HealthzApi.as_view(), name="healthz"),
    path("readyz", ReadyzApi.as_view(), name="readyz"),
]
probes = [
    path("healthz", ProbeHealthzApi.as_view(), name="healthz"),
    path("readyz", ProbeReadyzApi.as_view(), name="readyz"),
]

urlpatterns = [
    path("", include((probes, "core"), namespace="probe")),
    path("api/auth/", include((health, "core"), namespace="health")),
    path("api/auth/", include(("accounts.urls", "accounts"), namespace="accounts")),
    path("api/auth/", include(("tokens.urls", "tokens"), namespace="tokens")),
    path("api/auth/", include(("agencies.urls", "agencies"), namespace="agencies")),
    path("api/auth/schema", SpectacularJSONAPIView.as_view(), name="schema"),
]
# Off by default: the admin is not routed at all (404), whatever the gateway or ingress forwards.
if settings.ADMIN_UI_ENABLED:
    urlpatterns.append(path("api/auth/admin/", admin.site.urls))

handler400 = "core.error_views.bad_request"
handler403 = "core.error_views.permission_denied"
handler404 = "core.error_views.not_found"
handler500 = "core.error_views.server_error"
