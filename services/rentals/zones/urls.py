from django.urls import path

from zones import apis

urlpatterns = [
    path("zones", apis.ZoneListApi, name="zones"),
    path("zones/<uuid:zone_id>", apis.ZoneDetailApi, name="zone-detail"),
]
