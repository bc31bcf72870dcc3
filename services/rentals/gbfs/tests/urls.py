"""The service's URLconf plus the gbfs include, for tests while config/urls.py lacks the line."""

from config.urls import *  # noqa: F403
from config.urls import urlpatterns as service_urlpatterns
from django.urls import include, path

urlpatterns = [*service_urlpatterns, path("gbfs/", include("gbfs.urls"))]
