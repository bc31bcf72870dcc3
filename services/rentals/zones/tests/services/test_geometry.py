import pytest
from core.exceptions import ValidationFailed
from shapely.geometry import shape

from zones.geometry import covers_point, distance_m, multipolygon_clean

CLOCKWISE = [[[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]]


def test_exterior_rings_are_turned_counter_clockwise_and_bbox_returned(settings):
    geometry, bbox = multipolygon_clean({"type": "MultiPolygon", "coordinates": [CLOCKWISE]})
    assert shape(geometry).geoms[0].exterior.is_ccw
    assert bbox == (0.0, 0.0, 1.0, 1.0)
    assert geometry["coordinates"][0][0][0] == [0.0, 0.0]  # lists, as stored and published


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"type": "MultiPolygon"},
        {"type": "MultiPolygon", "coordinates": []},
        {"type": "MultiPolygon", "coordinates": [[]]},
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [0, 0]]]]},
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0.5]]]]},
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, True], [0, 0]]]]},
        {"type": "MultiPolygon", "coordinates": [[[[0, 0, 5], [1, 0], [1, 1], [0, 0]]]]},
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]], "bbox": [0, 0, 1, 1]},
    ],
)
def test_invalid_geometry_raises_validation_failed(value, settings):
    with pytest.raises(ValidationFailed) as info:
        multipolygon_clean(value)
    assert "geometry" in info.value.errors


def test_nan_is_refused(settings):
    with pytest.raises(ValidationFailed):
        multipolygon_clean(
            {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, float("nan")], [0, 0]]]]}
        )


def test_covers_point_includes_the_boundary_and_holes_are_outside(settings):
    with_hole = [
        [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
        [[1, 1], [1, 3], [3, 3], [3, 1], [1, 1]],
    ]
    geometry, _ = multipolygon_clean({"type": "MultiPolygon", "coordinates": [with_hole]})
    assert covers_point(geometry=geometry, lat=0.5, lon=0.5)
    assert covers_point(geometry=geometry, lat=0, lon=2)
    assert not covers_point(geometry=geometry, lat=2, lon=2)
    assert not covers_point(geometry=geometry, lat=5, lon=5)


def test_distance_m_is_great_circle():
    assert round(distance_m(lat1=0, lon1=0, lat2=0, lon2=1)) == 111195
