import pytest

pytestmark = pytest.mark.django_db


def test_operator_sets_condition_and_reads_history(admin, bike):
    response = admin.post(
        f"/api/bikes/{bike.id}/condition", {"condition": "broken", "reason": "Flat tyre"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["condition"] == "broken"
    assert [(h["from_condition"], h["to_condition"], h["reason"]) for h in body["history"]] == [
        ("ok", "broken", "Flat tyre")
    ]
    assert admin.get(f"/api/bikes/{bike.id}/condition").json() == body
    assert admin.get(f"/api/bikes/{bike.id}").json()["condition"] == "broken"


def test_riders_may_not_change_or_read_conditions(rider, bike):
    assert (
        rider.post(
            f"/api/bikes/{bike.id}/condition", {"condition": "broken", "reason": "x"}, format="json"
        ).status_code
        == 403
    )
    assert rider.get(f"/api/bikes/{bike.id}/condition").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"condition": "broken"},
        {"condition": "wrecked", "reason": "x"},
        {"condition": "broken", "reason": ""},
        {"condition": "broken", "reason": "x" * 501},
        {"condition": "broken", "reason": "x", "by": "me"},
    ],
)
def test_bad_input_is_400_and_changes_nothing(admin, bike, body):
    response = admin.post(f"/api/bikes/{bike.id}/condition", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    bike.refresh_from_db()
    assert bike.condition == "ok"


def test_same_condition_is_409_and_unknown_bike_404(admin, bike):
    response = admin.post(
        f"/api/bikes/{bike.id}/condition", {"condition": "ok", "reason": "x"}, format="json"
    )
    assert response.status_code == 409
    missing = "/api/bikes/00000000-0000-4000-8000-000000000000/condition"
    assert admin.post(missing, {"condition": "ok", "reason": "x"}, format="json").status_code == 404


def test_rider_list_hides_bikes_not_ok_and_rent_is_409_with_its_own_type(admin, rider, bike, tariff):
    admin.post(f"/api/bikes/{bike.id}/condition", {"condition": "needs_check", "reason": "x"}, format="json")
    assert rider.get("/api/bikes").json()["results"] == []
    assert [b["id"] for b in rider.get("/api/bikes?condition=needs_check").json()["results"]] == [
        str(bike.id)
    ]
    response = rider.post("/api/rentals", {"bike_id": str(bike.id)}, format="json")
    assert response.status_code == 409
    assert response.json()["type"] == "https://velo.example/problems/bike-out-of-service"
    response = rider.post(f"/api/bikes/{bike.id}/reservation", format="json")
    assert response.json()["type"] == "https://velo.example/problems/bike-out-of-service"
    assert rider.get("/api/bikes?condition=broken,bad").status_code == 400
