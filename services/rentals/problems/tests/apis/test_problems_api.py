import pytest

pytestmark = pytest.mark.django_db


def test_rider_reports_operator_lists_and_resolves(rider, admin, bike):
    response = rider.post(
        f"/api/bikes/{bike.id}/problems", {"category": "brakes", "text": "Squeaks"}, format="json"
    )
    assert response.status_code == 201, response.content
    report = response.json()
    assert (report["category"], report["unsafe"], report["status"], report["bike_condition"]) == (
        "brakes",
        True,
        "open",
        "needs_check",
    )
    listed = admin.get("/api/problems?status=open").json()["results"]
    assert [item["id"] for item in listed] == [report["id"]]
    assert admin.get(f"/api/problems?bike_id={bike.id}&status=resolved").json()["results"] == []
    response = admin.patch(
        f"/api/problems/{report['id']}", {"status": "resolved", "note": "Pads"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert (
        admin.patch(f"/api/problems/{report['id']}", {"status": "rejected"}, format="json").status_code == 409
    )
    assert admin.get(f"/api/problems/{report['id']}").json()["resolution_note"] == "Pads"


def test_riders_cannot_list_or_resolve(rider, bike):
    report = rider.post(f"/api/bikes/{bike.id}/problems", {"category": "other"}, format="json").json()
    assert rider.get("/api/problems").status_code == 403
    assert (
        rider.patch(f"/api/problems/{report['id']}", {"status": "resolved"}, format="json").status_code == 403
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"category": "engine"}, {"category": "other", "text": "x" * 2001}, {"category": "other", "bike": 1}],
)
def test_bad_reports_are_400_and_store_nothing(rider, admin, bike, body):
    response = rider.post(f"/api/bikes/{bike.id}/problems", body, format="json")
    assert response.status_code == 400
    assert admin.get("/api/problems").json()["results"] == []


def test_bad_resolutions_and_filters_are_400(rider, admin, bike):
    report = rider.post(f"/api/bikes/{bike.id}/problems", {"category": "other"}, format="json").json()
    for body in ({"status": "open"}, {}, {"status": "resolved", "who": "me"}):
        assert admin.patch(f"/api/problems/{report['id']}", body, format="json").status_code == 400
    assert admin.get("/api/problems?status=closed").status_code == 400
    assert admin.get("/api/problems?bike_id=nope").status_code == 400
    assert admin.get(f"/api/problems/{report['id']}").json()["status"] == "open"


def test_unknown_bike_is_404(rider):
    response = rider.post(
        "/api/bikes/00000000-0000-4000-8000-000000000000/problems", {"category": "other"}, format="json"
    )
    assert response.status_code == 404
