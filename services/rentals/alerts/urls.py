from django.urls import path

from alerts import apis

urlpatterns = [
    path("alerts", apis.AlertListApi, name="alerts"),
    path("alerts/<uuid:alert_id>", apis.AlertDetailApi, name="alert-detail"),
]
