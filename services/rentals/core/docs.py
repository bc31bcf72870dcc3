"""Swagger UI and ReDoc served from drf-spectacular-sidecar (no CDN), listing auth's, rentals' and the
notifier's schemas."""

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

SCHEMAS = {
    "rentals": "/api/schema",
    "auth": "/api/auth/schema",
    "notifications": "/api/notifications/schema",
}


class SwaggerDocsView(SpectacularSwaggerView):
    # The standalone layout shows a selector with every entry of SWAGGER_UI_SETTINGS["urls"].
    template_name_js = "core/swagger_ui.js"
    url = SCHEMAS["rentals"]
    title = "Velo API"


class RedocDocsView(SpectacularRedocView):
    template_name = "core/redoc.html"
    title = "Velo API"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        selected = request.GET.get("spec", "rentals")
        if selected not in SCHEMAS:
            selected = "rentals"
        response.data["schema_url"] = SCHEMAS[selected]
        response.data["schemas"] = [
            {"name": name, "url": url, "selected": name == selected} for name, url in SCHEMAS.items()
        ]
        return response
