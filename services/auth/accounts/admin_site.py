"""The Django admin site: routed only with ADMIN_UI_ENABLED (config.urls); its login goes through
the same throttling as POST /api/auth/token (per email and client address, plus the address ceiling)."""

from typing import Any

from core.client_ip import client_ip_get
from core.exceptions import RateLimited
from core.problems import problem_response
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from tokens.services import login_attempt_begin, login_attempt_succeeded


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not email or password is None:
            return super().clean()
        attempt = login_attempt_begin(email=email, client_ip=client_ip_get(request=self.request))
        try:
            return super().clean()
        finally:
            if self.user_cache is not None:  # the password was right (staff or not)
                login_attempt_succeeded(attempt=attempt)


class VeloAdminSite(AdminSite):
    site_header = "Velo auth administration"
    login_form = ThrottledAdminAuthenticationForm

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().login(request, extra_context)
        except RateLimited as exc:
            return problem_response(
                request=request,
                status=exc.status,
                slug=exc.slug,
                title=exc.title,
                detail=exc.detail,
                headers=exc.headers,
            )
