import pytest
from zones.services import zone_create

pytestmark = pytest.mark.django_db
# Around Alexanderplatz (the `station` fixture), not around Potsdamer Platz (`other_station`).
SQUARE = [[[13.40, 52.51], [13.43, 52.51], [13.43, 52.53], [13.40, 52.53], [13.40, 52.51]]]


@pytest.fixture
def no_parking(db):
    return zone_create(
        name="Alexanderplatz",
        geometry={"type": "MultiPolygon", "coordinates": [SQUARE]},
        parking_allowed=False,
    )


def _rent(rider, bike) -> str:
    response = rider.post("/api/rentals", {"bike_id": str(bike.id)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_finishing_inside_is_409_with_the_nearest_station_and_changes_nothing(
    rider, bike, tariff, station, no_parking
):
    rental_id = _rent(rider, bike)
    response = rider.post(f"/api/rentals/{rental_id}/finish", {"lat": 52.515, "lon": 13.41}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["type"] == "https://velo.example/problems/parking-not-allowed"
    assert body["zone_id"] == str(no_parking.id)
    assert body["nearest_station"]["id"] == str(station.id)
    assert rider.get("/api/rentals/active").json()["id"] == rental_id
    # The bike's last known position (the station it left) is inside the zone too.
    assert rider.post(f"/api/rentals/{rental_id}/finish", {}, format="json").status_code == 409


def test_at_a_station_or_outside_the_zone_is_fine(rider, bike, make_bike, tariff, station, no_parking):
    rental_id = _rent(rider, bike)
    response = rider.post(f"/api/rentals/{rental_id}/finish", {"station_id": str(station.id)}, format="json")
    assert response.status_code == 200
    rental_id = _rent(rider, make_bike())
    response = rider.post(f"/api/rentals/{rental_id}/finish", {"lat": 52.6, "lon": 13.41}, format="json")
    assert response.status_code == 200 and response.json()["end_station_id"] is None


@pytest.mark.parametrize("body", [{"lat": 52.5}, {"lat": 91, "lon": 0}, {"lat": "x", "lon": 0}])
def test_bad_positions_are_400(rider, bike, tariff, body):
    rental_id = _rent(rider, bike)
    assert rider.post(f"/api/rentals/{rental_id}/finish", body, format="json").status_code == 400
    assert rider.get("/api/rentals/active").json()["id"] == rental_id
