import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

_django = get_wsgi_application()

from fleet.page_cache import BikeListPageCache  # noqa: E402  (needs the settings configured above)

application = BikeListPageCache(_django)
