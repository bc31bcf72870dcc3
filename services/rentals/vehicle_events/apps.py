from django.apps import AppConfig


class VehicleEventsConfig(AppConfig):
    name = "vehicle_events"
    default_auto_field = "django.db.models.BigAutoField"
