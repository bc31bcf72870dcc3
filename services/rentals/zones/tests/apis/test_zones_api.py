import pytest
from core.testing import CrudApiTests

pytestmark = pytest.mark.django_db

# Counter-clockwise square around Alexanderplatz (the `station` fixture), [lon, lat] positions.
SQUARE = [[[13.40, 52.51], [13.43, 52.51], [13.43, 52.53], [13.40, 52.53], [13.40, 52.51]]]
GEOMETRY = {"type": "MultiPolygon", "coordinates": [SQUARE]}


class TestZonesApi(CrudApiTests):
    path = "/api/zones"
    create_body = {"name": "Alexanderplatz no parking", "geometry": GEOMETRY, "parking_allowed": False}
    update_body = {"name": "Alexanderplatz slow", "parking_allowed": True, "maximum_speed_kph": 10}
    invalid_bodies = [
        {"name": "x", "geometry": {"type": "Polygon", "coordinates": SQUARE}},
        {
            "name": "open ring",
            "geometry": {"type": "MultiPolygon", "coordinates": [[[*SQUARE[0][:-1], [13.41, 52.5]]]]},
        },
        {
            "name": "short",
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [[[[13.4, 52.5], [13.5, 52.5], [13.4, 52.5]]]],
            },
        },
        {
            "name": "lat",
            "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 91], [1, 91], [1, 92], [0, 91]]]]},
        },
        {
            "name": "lon",
            "geometry": {"type": "MultiPolygon", "coordinates": [[[[181, 0], [182, 0], [182, 1], [181, 0]]]]},
        },
        {
            "name": "bow tie",
            "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]]},
        },
        {
            "name": "text",
            "geometry": {"type": "MultiPolygon", "coordinates": [[[["a", 0], [1, 1], [1, 0], ["a", 0]]]]},
        },
        {"name": "x", "geometry": GEOMETRY, "maximum_speed_kph": -1},
        {"name": "x", "geometry": GEOMETRY, "colour": "red"},
    ]


def test_too_many_vertices_is_400(admin, settings):
    settings.ZONE_MAX_VERTICES = 4
    response = admin.post("/api/zones", {"name": "big", "geometry": GEOMETRY}, format="json")
    assert response.status_code == 400
    assert "At most 4 positions" in response.json()["errors"]["geometry"][0]
