from django.urls import path

from rentals import apis

urlpatterns = [
    path("rentals", apis.RentalListApi.as_view(), name="rentals"),
    path("rentals/active", apis.RentalActiveApi.as_view(), name="rental-active"),
    path("rentals/<uuid:rental_id>", apis.RentalDetailApi.as_view(), name="rental-detail"),
    path("rentals/<uuid:rental_id>/finish", apis.RentalFinishApi.as_view(), name="rental-finish"),
    path("rentals/<uuid:rental_id>/invoice", apis.RentalInvoiceApi.as_view(), name="rental-invoice"),
]
