import os

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/healthz", "/api/healthz"])
def test_healthz(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.skipif(not os.environ.get("AMQP_URL"), reason="needs real RabbitMQ: AMQP_URL unset")
@pytest.mark.parametrize("path", ["/readyz", "/api/readyz"])
def test_readyz_with_real_database_and_broker(client, settings, path):
    settings.AMQP_URL = os.environ["AMQP_URL"]
    response = client.get(path)
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_is_503_when_broker_is_down(client):
    with override_settings(AMQP_URL="amqp://guest:guest@127.0.0.1:1/%2F"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "fail"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/healthz", "/api/readyz"])
def test_probes_refuse_other_methods_with_problem_json(client, path):
    response = client.delete(path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["type"].endswith("/method-not-allowed")


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/readyz", 503)])
def test_root_probes_answer_whatever_the_host_header(client, path, status):
    # The broker is unreachable on purpose: readyz must still answer (503), not 400 for the host.
    with override_settings(AMQP_URL="amqp://guest:guest@127.0.0.1:1/%2F", ALLOWED_HOSTS=["velo.example"]):
        response = client.get(path, HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == status
    assert response.json()["status"] in ("ok", "unavailable")


def test_api_probes_still_validate_the_host(client):
    with override_settings(ALLOWED_HOSTS=["velo.example"]):
        response = client.get("/api/healthz", HTTP_HOST="evil.example")
    assert response.status_code == 400
