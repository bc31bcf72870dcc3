import pytest

pytestmark = pytest.mark.django_db


def test_admin_gets_the_day(admin, rider, bike, tariff):
    assert rider.post("/api/rentals", {"bike_id": str(bike.id)}, format="json").status_code == 201

    response = admin.get("/api/stats/today")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "date",
        "generated_at",
        "hours",
        "totals",
        "active_rentals",
        "billing",
        "open_problem_reports",
    }
    assert body["active_rentals"] == 1
    assert body["totals"]["rides_started"] == 1
    assert body["hours"][-1]["rides_started"] == 1
    assert body["hours"][0]["hour"].endswith(("T00:00:00Z", "T00:00:00+00:00"))


def test_rider_gets_403_problem(rider):
    response = rider.get("/api/stats/today")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 403


def test_anonymous_gets_401(client):
    response = client.get("/api/stats/today")

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
