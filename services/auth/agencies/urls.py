from django.urls import path

from agencies import apis

urlpatterns = [
    path("agencies", apis.AgencyClientListApi.as_view(), name="agencies"),
    path("agencies/<uuid:client_id>", apis.AgencyClientDetailApi.as_view(), name="agency-detail"),
    path("token/agency", apis.AgencyTokenApi.as_view(), name="agency-token"),
]
