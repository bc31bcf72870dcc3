from django.urls import path

from reservations import apis

urlpatterns = [
    path("bikes/<uuid:bike_id>/reservation", apis.BikeReservationApi.as_view(), name="bike-reservation"),
    path("reservations/active", apis.ReservationActiveApi.as_view(), name="reservation-active"),
]
