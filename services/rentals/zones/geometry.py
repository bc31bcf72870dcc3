"""Zone geometry: GeoJSON MultiPolygons in WGS84, checked and tested with shapely (GEOS).

Why shapely and not PostGIS: the local stack runs Debian's PostgreSQL and the compose image is built from
Debian packages too, so PostGIS would be one more system package in scripts/install.sh and in that image;
shapely is a self-contained wheel in the rentals venv. The one geometric question on a hot path (is a
finishing bike inside a no-parking zone) first narrows the zones by their bounding box in SQL, so only the
few zones around the point are parsed and tested here (BENCHMARKS.md, S7)."""

import math

import shapely
from core.exceptions import ValidationFailed
from django.conf import settings
from shapely.geometry import MultiPolygon, Point, shape
from shapely.geometry.polygon import orient

EARTH_RADIUS_M = 6_371_008.8


def _fail(message: str):
    raise ValidationFailed("Invalid geometry.", errors={"geometry": [message]})


def _position(value, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        _fail(f"{where}: a position is [longitude, latitude].")
    lon, lat = value
    for number in (lon, lat):
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            _fail(f"{where}: coordinates must be finite numbers.")
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        _fail(f"{where}: outside WGS84 (longitude -180..180, latitude -90..90).")
    return float(lon), float(lat)


def multipolygon_clean(value) -> tuple[dict, tuple[float, float, float, float]]:
    """Check a GeoJSON MultiPolygon and return it (exterior rings counter-clockwise, holes clockwise: the
    right-hand rule GBFS asks for) with its bounding box (min_lon, min_lat, max_lon, max_lat).
    Raises ValidationFailed (400) for anything else: other types, open or short rings, positions outside
    WGS84, more than ZONE_MAX_VERTICES positions, self-intersections."""
    if not isinstance(value, dict) or value.get("type") != "MultiPolygon":
        _fail('Must be a GeoJSON object with "type": "MultiPolygon".')
    unknown = set(value) - {"type", "coordinates"}
    if unknown:
        _fail(f"Unknown member(s): {', '.join(sorted(unknown))}.")
    polygons = value.get("coordinates")
    if not isinstance(polygons, list) or not polygons:
        _fail("coordinates must be a non-empty list of polygons.")
    limit = settings.ZONE_MAX_VERTICES
    count = 0
    checked = []
    for p, rings in enumerate(polygons):
        if not isinstance(rings, list) or not rings:
            _fail(f"polygon {p}: a non-empty list of linear rings.")
        clean_rings = []
        for r, ring in enumerate(rings):
            where = f"polygon {p}, ring {r}"
            if not isinstance(ring, list) or len(ring) < 4:
                _fail(f"{where}: a linear ring has at least 4 positions.")
            count += len(ring)
            if count > limit:
                _fail(f"At most {limit} positions in all.")
            positions = [_position(position, where) for position in ring]
            if positions[0] != positions[-1]:
                _fail(f"{where}: not closed (the last position must equal the first).")
            if len(set(positions)) < 3:
                _fail(f"{where}: needs at least 3 distinct positions.")
            clean_rings.append(positions)
        checked.append((clean_rings[0], clean_rings[1:]))
    geometry = MultiPolygon(checked)
    if not geometry.is_valid:
        _fail(f"Not a valid polygon: {shapely.is_valid_reason(geometry)}.")
    oriented = MultiPolygon([orient(polygon, sign=1.0) for polygon in geometry.geoms])
    min_lon, min_lat, max_lon, max_lat = oriented.bounds
    return as_geojson(shapely.geometry.mapping(oriented)), (min_lon, min_lat, max_lon, max_lat)


def as_geojson(geometry: dict) -> dict:
    """Lists all the way down (shapely's mapping() gives tuples), as stored and published."""
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [[[x, y] for x, y in ring] for ring in polygon] for polygon in geometry["coordinates"]
        ],
    }


def covers_point(*, geometry: dict, lat: float, lon: float) -> bool:
    """Inside or on the boundary."""
    return shape(geometry).covers(Point(lon, lat))


def distance_m(*, lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
