"""Session and CSRF cookies (the Django admin only) marked Secure on https requests."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SecureCookiesMiddleware:
    """Marks the session and CSRF cookies Secure on https requests (request.is_secure() honours
    SECURE_PROXY_SSL_HEADER), so they never travel over plain http once set over https, while the
    local stack (plain http on 127.0.0.1) keeps working without a setting."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        if request.is_secure():
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
                if name in response.cookies:
                    response.cookies[name]["secure"] = True
        return response
