from django.db.models import QuerySet

from agencies.models import AgencyClient


def agency_client_list() -> QuerySet[AgencyClient]:
    return AgencyClient.objects.order_by("name")
