import pytest
from core.testing import CrudApiTests

pytestmark = pytest.mark.django_db

SUMMARY = [{"text": "Station closed for works", "language": "en"}]


class TestAlertsApi(CrudApiTests):
    path = "/api/alerts"
    create_body = {
        "alert_type": "STATION_CLOSURE",
        "starts_at": "2026-12-01T08:00:00Z",
        "ends_at": "2026-12-24T18:00:00Z",
        "summary": SUMMARY,
        "description": [{"text": "Use Potsdamer Platz meanwhile.", "language": "en"}],
        "url": [{"text": "https://velo.example/works", "language": "en"}],
    }
    update_body = {"alert_type": "OTHER", "summary": [{"text": "Works extended", "language": "en"}]}
    invalid_bodies = [
        {"alert_type": "FLOOD", "summary": SUMMARY},
        {"alert_type": "OTHER", "summary": [{"text": "x", "language": "English"}]},
        {
            "alert_type": "OTHER",
            "summary": [{"text": "x", "language": "en"}, {"text": "y", "language": "en"}],
        },
        {"alert_type": "OTHER", "summary": SUMMARY, "url": [{"text": "not a url", "language": "en"}]},
        {
            "alert_type": "OTHER",
            "summary": SUMMARY,
            "starts_at": "2026-12-02T00:00:00Z",
            "ends_at": "2026-12-01T00:00:00Z",
        },
        {"alert_type": "OTHER", "summary": SUMMARY, "station_ids": ["00000000-0000-4000-8000-000000000000"]},
        {"alert_type": "OTHER", "summary": SUMMARY, "severity": "high"},
    ]


def test_station_alert_names_known_stations_and_lower_case_type_is_accepted(admin, station):
    response = admin.post(
        "/api/alerts",
        {"alert_type": "station_move", "summary": SUMMARY, "station_ids": [str(station.id)]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["alert_type"] == "STATION_MOVE"
    assert response.json()["station_ids"] == [str(station.id)]
    assert response.json()["ends_at"] is None
