from django.apps import AppConfig


class StatsConfig(AppConfig):
    """Figures for operators (the console's "Today" page); its table keeps the figures of settled hours."""

    name = "stats"
    default_auto_field = "django.db.models.BigAutoField"
