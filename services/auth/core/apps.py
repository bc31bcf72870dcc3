from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    label = "core"
    verbose_name = "Core (errors, health, logging)"

    def ready(self) -> None:
        from core import openapi  # noqa: F401  (registers the drf-spectacular auth extension)
