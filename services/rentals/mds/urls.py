from django.urls import path, re_path

from mds import apis

urlpatterns = [
    path("vehicles", apis.VehiclesApi.as_view(), name="mds-vehicles"),
    path("vehicles/status", apis.VehiclesStatusApi.as_view(), name="mds-vehicles-status"),
    path("vehicles/status/<str:device_id>", apis.VehiclesStatusApi.as_view(), name="mds-vehicle-status"),
    path("vehicles/<str:device_id>", apis.VehiclesApi.as_view(), name="mds-vehicle"),
    path("trips", apis.TripsApi.as_view(), name="mds-trips"),
    path("events/historical", apis.EventsHistoricalApi.as_view(), name="mds-events-historical"),
    path("events/recent", apis.EventsRecentApi.as_view(), name="mds-events-recent"),
    path("stops", apis.StopsApi.as_view(), name="mds-stops"),
    path("stops/<str:stop_id>", apis.StopsApi.as_view(), name="mds-stop"),
    re_path(r"^reports/(?P<year>\d{4})-(?P<month>\d{2})\.csv$", apis.ReportApi.as_view(), name="mds-report"),
]
