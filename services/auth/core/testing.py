"""Assertions shared by the test suites (kept importable, unlike conftest)."""

from typing import Any


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["type"] == f"https://velo.example/problems/{slug}", body
    assert body["status"] == status
    assert {"title", "detail", "instance", "request_id"} <= body.keys()
    return body
