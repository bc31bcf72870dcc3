import datetime as dt
import math
import uuid

from core.exceptions import NotFound
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from fleet.models import Bike, BikeStatus, Station, Tariff


def bike_list(
    *,
    statuses: list[str] | None = None,
    station_id: uuid.UUID | None = None,
    near: tuple[float, float] | None = None,
) -> tuple[QuerySet[Bike], list[str]]:
    """Bikes (available ones unless `statuses` says otherwise) and the keyset ordering to page them by.
    With `near` the bikes come nearest first (equirectangular distance, fine at city scale)."""
    queryset = Bike.objects.filter(status__in=statuses or [BikeStatus.AVAILABLE])
    if station_id is not None:
        queryset = queryset.filter(station_id=station_id)
    if near is None:
        return queryset, ["number", "id"]
    lat, lon = near
    k = math.cos(math.radians(lat))
    distance = ExpressionWrapper(
        (F("lat") - lat) * (F("lat") - lat) + (F("lon") - lon) * (F("lon") - lon) * (k * k),
        output_field=FloatField(),
    )
    queryset = queryset.filter(lat__isnull=False, lon__isnull=False).annotate(distance=distance)
    return queryset, ["distance", "id"]


def bike_get(*, bike_id: uuid.UUID) -> Bike:
    try:
        return Bike.objects.get(id=bike_id)
    except Bike.DoesNotExist:
        raise NotFound("Bike not found.")


def _station_bike_count(bikes: QuerySet[Bike]) -> Coalesce:
    """Bikes of `bikes` at the outer station, counted per station row through `bike_station_status_idx`
    (a join + aggregate would count the whole fleet before the page is cut)."""
    counted = bikes.filter(station=OuterRef("pk")).order_by().values("station").annotate(n=Count("*"))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def _stations() -> QuerySet[Station]:
    return Station.objects.annotate(
        available_bikes=_station_bike_count(Bike.objects.filter(status=BikeStatus.AVAILABLE)),
        docked_bikes=_station_bike_count(Bike.objects.exclude(status=BikeStatus.RETIRED)),
    )


def station_list(*, include_inactive: bool = False) -> tuple[QuerySet[Station], list[str]]:
    queryset = _stations()
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset, ["name", "id"]


def station_get(*, station_id: uuid.UUID) -> Station:
    try:
        return _stations().get(id=station_id)
    except Station.DoesNotExist:
        raise NotFound("Station not found.")


def tariff_list(*, include_inactive: bool = False) -> tuple[QuerySet[Tariff], list[str]]:
    queryset = Tariff.objects.all()
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset, ["name", "id"]


def tariff_get(*, tariff_id: uuid.UUID) -> Tariff:
    try:
        return Tariff.objects.get(id=tariff_id)
    except Tariff.DoesNotExist:
        raise NotFound("Tariff not found.")


def tariff_in_force(*, at: dt.datetime | None = None) -> Tariff | None:
    """The active tariff with the latest `valid_from` that is not in the future (ties: newest created)."""
    moment = at or timezone.now()
    return (
        Tariff.objects.filter(is_active=True, valid_from__lte=moment)
        .order_by("-valid_from", "-created_at")
        .first()
    )
