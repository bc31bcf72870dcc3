import pytest

pytestmark = pytest.mark.django_db


def test_tariffs_list(rider, tariff):
    body = rider.get("/api/tariffs").json()
    assert body["results"][0] == {
        "id": str(tariff.id),
        "name": "Standard",
        "unlock_fee": 100,
        "price_per_minute": 25,
        "daily_cap": 2000,
        "currency": "EUR",
        "is_active": True,
        "valid_from": "2020-01-01T00:00:00Z",
    }


def test_admin_tariff_crud_and_rider_403(admin, rider):
    payload = {"name": "Night", "unlock_fee": 0, "price_per_minute": 10}
    assert rider.post("/api/tariffs", payload, format="json").status_code == 403
    created = admin.post("/api/tariffs", payload, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["currency"] == "EUR" and body["daily_cap"] is None
    assert (
        admin.patch(f"/api/tariffs/{body['id']}", {"daily_cap": 900}, format="json").json()["daily_cap"]
        == 900
    )
    assert admin.delete(f"/api/tariffs/{body['id']}").json()["is_active"] is False


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "X", "unlock_fee": -1, "price_per_minute": 1},
        {"name": "X", "unlock_fee": 1, "price_per_minute": 1, "currency": "eur"},
        {"name": "X", "unlock_fee": 1.5, "price_per_minute": 1},
    ],
)
def test_invalid_tariff_is_400(admin, payload):
    assert admin.post("/api/tariffs", payload, format="json").status_code == 400
