import pytest

from zones.selectors import nearest_station, no_parking_zone_at
from zones.services import zone_create

pytestmark = pytest.mark.django_db
SQUARE = [[[13.40, 52.51], [13.43, 52.51], [13.43, 52.53], [13.40, 52.53], [13.40, 52.51]]]


def test_only_no_parking_zones_covering_the_point(station):
    zone_create(name="slow", geometry={"type": "MultiPolygon", "coordinates": [SQUARE]}, maximum_speed_kph=10)
    assert no_parking_zone_at(lat=52.52, lon=13.41) is None
    banned = zone_create(
        name="banned", geometry={"type": "MultiPolygon", "coordinates": [SQUARE]}, parking_allowed=False
    )
    assert no_parking_zone_at(lat=52.52, lon=13.41).id == banned.id
    assert no_parking_zone_at(lat=52.60, lon=13.41) is None


def test_nearest_active_station(station, other_station):
    found = nearest_station(lat=52.5100, lon=13.3770)
    assert found["id"] == str(other_station.id) and 0 <= found["distance_m"] < 100
    other_station.is_active = False
    other_station.save()
    assert nearest_station(lat=52.5100, lon=13.3770)["id"] == str(station.id)
