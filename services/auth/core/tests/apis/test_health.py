import os

import pytest

from core.testing import assert_problem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/healthz", "/api/auth/healthz"])
def test_healthz(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.skipif(not os.environ.get("AMQP_URL"), reason="AMQP_URL not set: no broker to probe")
@pytest.mark.parametrize("path", ["/readyz", "/api/auth/readyz"])
def test_readyz_with_real_database_and_broker(api_client, settings, path):
    settings.AMQP_URL = os.environ["AMQP_URL"]
    response = api_client.get(path)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.parametrize("path", ["/readyz", "/api/auth/readyz"])
def test_readyz_is_503_problem_when_the_broker_is_down(api_client, settings, path):
    settings.AMQP_URL = "amqp://guest:guest@127.0.0.1:1/%2F"
    body = assert_problem(api_client.get(path), 503, "service-unavailable")
    assert "broker" in body["detail"]


def test_readyz_is_503_when_something_answers_but_is_not_amqp(api_client, settings, live_server):
    # live_server speaks HTTP, not AMQP: the broker login must fail
    port = live_server.url.rsplit(":", 1)[1]
    settings.AMQP_URL = f"amqp://guest:guest@127.0.0.1:{port}/%2F"
    assert_problem(api_client.get("/readyz"), 503, "service-unavailable")


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/readyz", 503)])
def test_root_probes_answer_whatever_the_host_header(api_client, settings, path, status):
    # The broker is unreachable on purpose: readyz must still answer (503), not 400 for the host.
    settings.ALLOWED_HOSTS = ["velo.example"]
    settings.AMQP_URL = "amqp://guest:guest@127.0.0.1:1/%2F"
    response = api_client.get(path, HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == status


def test_api_probes_still_validate_the_host(api_client, settings):
    settings.ALLOWED_HOSTS = ["velo.example"]
    assert api_client.get("/api/auth/healthz", HTTP_HOST="evil.example").status_code == 400
