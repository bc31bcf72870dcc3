from django.apps import AppConfig


class StatsConfig(AppConfig):
    """Read-only figures for operators (the console's "Today" page); owns no tables."""

    name = "stats"
    default_auto_field = "django.db.models.BigAutoField"
