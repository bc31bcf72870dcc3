"""Settings for running only the gbfs tests beside other suites on the same PostgreSQL (own test database),
with the gbfs app installed: `pytest --ds gbfs.tests.helper_settings gbfs`. The service suite uses
config.settings.test."""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, INSTALLED_APPS

DATABASES["default"]["TEST"] = {"NAME": "test_rentals_gbfs"}
if "gbfs" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "gbfs"]
ROOT_URLCONF = "gbfs.tests.urls"
