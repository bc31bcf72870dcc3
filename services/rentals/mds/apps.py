from django.apps import AppConfig


class MdsConfig(AppConfig):
    name = "mds"
    default_auto_field = "django.db.models.BigAutoField"
