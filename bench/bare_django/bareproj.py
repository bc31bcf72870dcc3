"""The framework's ceiling: a bare Django JSON view, no database, no auth, no middleware.

Run it under the same WSGI server and worker model as the services, e.g.
    cd bench/bare_django && ../../services/rentals/.venv/bin/gunicorn bareproj:application \
        --bind 127.0.0.1:8291 --worker-class gthread --workers 2 --threads 4
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-bare-django-not-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={},
    USE_TZ=True,
)


def hello(request):
    return JsonResponse({"status": "ok", "results": [], "next": None, "previous": None})


urlpatterns = [path("bare", hello)]

application = get_wsgi_application()
