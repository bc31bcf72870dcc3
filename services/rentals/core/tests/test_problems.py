import uuid

import pytest

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _assert_problem(response, status, slug):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"https://velo.example/problems/{slug}"
    assert body["status"] == status
    assert {"title", "detail", "instance", "request_id"} <= set(body)
    return body


def test_unknown_path_is_problem_404(client):
    body = _assert_problem(client.get("/api/nope"), 404, "not-found")
    assert body["instance"] == "/api/nope"


def test_non_uuid_id_is_404(rider):
    _assert_problem(rider.get("/api/bikes/not-a-uuid"), 404, "not-found")


def test_unknown_bike_is_404(rider):
    _assert_problem(rider.get(f"/api/bikes/{uuid.uuid4()}"), 404, "not-found")


def test_method_not_allowed_is_405(rider):
    _assert_problem(rider.put("/api/rentals", {}, format="json"), 405, "method-not-allowed")


def test_unsupported_media_type_is_415(rider):
    response = rider.post("/api/rentals", data="bike_id=x", content_type="application/x-www-form-urlencoded")
    _assert_problem(response, 415, "unsupported-media-type")


def test_malformed_json_is_400(rider):
    response = rider.post("/api/rentals", data="{not json", content_type="application/json")
    _assert_problem(response, 400, "malformed-request")


def test_validation_error_lists_fields(rider):
    body = _assert_problem(
        rider.post("/api/rentals", {"bike_id": "x"}, format="json"), 400, "validation-error"
    )
    assert "bike_id" in body["errors"]


def test_request_id_is_echoed_and_in_problem(rider):
    response = rider.get(f"/api/bikes/{uuid.uuid4()}", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    assert response.json()["request_id"] == "req-123"


def test_request_id_is_generated_when_missing(client):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32


def test_database_outage_is_503_problem_with_retry_after(rf):
    from django.db import OperationalError

    from core.exception_handlers import problem_exception_handler

    response = problem_exception_handler(
        OperationalError("server closed the connection"), {"request": rf.get("/api/bikes")}
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.data["type"].endswith("/service-unavailable")
    assert response.data["instance"] == "/api/bikes"


def test_field_errors_are_lists_of_messages_as_the_schema_documents(rf):
    """The shared handler (core/exception_handlers.py, the same in every service): nested serializer errors
    and Django ValidationErrors become {field: [message]}."""
    from django.core.exceptions import ValidationError as DjangoValidationError
    from rest_framework.exceptions import ValidationError
    from rest_framework.request import Request

    from core.exception_handlers import problem_exception_handler

    context = {"request": Request(rf.post("/api/zones"))}
    nested = ValidationError({"geometry": {"coordinates": ["Too few positions."]}, "name": ["Required."]})
    response = problem_exception_handler(nested, context)
    assert response.status_code == 400
    assert response.data["errors"] == {"geometry": ["coordinates: Too few positions."], "name": ["Required."]}

    django_error = DjangoValidationError({"name": ["Too long."]})
    response = problem_exception_handler(django_error, context)
    assert response.status_code == 400
    assert response.data["type"].endswith("/validation-error")
    assert response.data["errors"] == {"name": ["Too long."]}
