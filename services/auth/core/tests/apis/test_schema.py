from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_is_served_as_json_with_bearer_and_problem_responses(api_client):
    response = api_client.get("/api/auth/schema")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "RS256 access token from POST /api/auth/token",
    }
    assert schema["paths"]["/api/auth/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in schema["paths"]["/api/auth/token"]["post"]
    unauthorized = schema["paths"]["/api/auth/token"]["post"]["responses"]["401"]["content"]
    assert unauthorized["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    for path in (
        "/api/auth/register",
        "/api/auth/token/refresh",
        "/api/auth/logout",
        "/api/auth/users/{user_id}",
    ):
        assert path in schema["paths"]


def test_spectacular_validate_fail_on_warn_passes(tmp_path):
    out = tmp_path / "schema.json"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(out),
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert out.stat().st_size > 1000


def test_every_operation_is_tagged_with_its_domain(api_client):
    schema = api_client.get("/api/auth/schema").json()
    tags = {
        (path, method): operation["tags"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert {tag for found in tags.values() for tag in found} <= {"auth", "accounts admin", "health"}, tags
    assert tags[("/api/auth/token", "post")] == ["auth"]
    assert tags[("/api/auth/users/{user_id}", "patch")] == ["accounts admin"]
