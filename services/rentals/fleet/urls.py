from django.urls import path

from fleet import apis

urlpatterns = [
    path("bikes", apis.BikeListApi.as_view(), name="bikes"),
    path("bikes/<uuid:bike_id>", apis.BikeDetailApi.as_view(), name="bike-detail"),
    path("bikes/<uuid:bike_id>/condition", apis.BikeConditionApi.as_view(), name="bike-condition"),
    path("stations", apis.StationListApi.as_view(), name="stations"),
    path("stations/<uuid:station_id>", apis.StationDetailApi.as_view(), name="station-detail"),
    path("tariffs", apis.TariffListApi.as_view(), name="tariffs"),
    path("tariffs/<uuid:tariff_id>", apis.TariffDetailApi.as_view(), name="tariff-detail"),
]
