import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_openapi_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out)
    )
    assert out.stat().st_size > 0


def test_schema_endpoint_is_public_json_with_bearer_and_problem_responses(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    rent = schema["paths"]["/api/rentals"]["post"]["responses"]
    for code in ("400", "401", "402", "404", "409", "422"):
        assert "application/problem+json" in rent[code]["content"], code


def test_swagger_ui_and_redoc_list_both_schemas_without_cdn(client):
    swagger = client.get("/docs/").content.decode()
    assert "/api/auth/schema" in swagger and "/api/schema" in swagger
    assert "/api/notifications/schema" in swagger
    assert "/static/drf_spectacular_sidecar/" in swagger and "cdn" not in swagger.lower()
    redoc = client.get("/redoc/").content.decode()
    assert "/api/auth/schema" in redoc and "/static/drf_spectacular_sidecar/" in redoc
    assert "googleapis" not in redoc
    assert 'spec-url="/api/auth/schema"' in client.get("/redoc/?spec=auth").content.decode()


def test_sidecar_static_assets_are_served(client):
    response = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert response.status_code == 200


def test_every_operation_is_tagged_with_its_domain(client):
    schema = client.get("/api/schema").json()
    tags = {
        (path, method): operation["tags"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    domains = {"bikes", "stations", "tariffs", "reservations", "rentals", "wallet", "payments", "GBFS"}
    domains |= {"health", "problems", "alerts", "zones", "stats"}
    assert {tag for found in tags.values() for tag in found} <= domains, tags
    assert all(len(found) == 1 for found in tags.values()), tags
    assert tags[("/api/bikes/{bike_id}/reservation", "post")] == ["reservations"]
    assert tags[("/api/bikes", "get")] == ["bikes"]
    assert tags[("/api/wallet", "get")] == ["wallet"]
    assert tags[("/api/payments/webhook", "post")] == ["payments"]
