from django.apps import AppConfig


class GbfsConfig(AppConfig):
    name = "gbfs"
    verbose_name = "GBFS v3.0 public feeds"

    def ready(self) -> None:
        from gbfs import checks  # noqa: F401  (registers the configuration checks)
