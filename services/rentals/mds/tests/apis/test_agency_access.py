"""Who may read /mds/ and how often: a revoked agency client's unexpired token is refused (401) once the
inbox applied auth's agency_client.revoked, and each agency client has one rate budget over all its tokens
(429 with Retry-After beyond it)."""

import datetime as dt
import uuid

import pytest
from agencies.models import AgencyRateBucket
from django.conf import settings
from inbox.consumers import Outcome, handle_message
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ACCEPT = "application/vnd.mds+json;version=2.0"


@pytest.fixture
def agency_client_for(make_token):
    def _make(client_id: uuid.UUID) -> APIClient:
        token = make_token(
            user_id=client_id, roles=("agency",), extra={"provider_id": str(settings.MDS_PROVIDER_ID)}
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT=ACCEPT)
        return client

    return _make


def _revoked_event(contract_examples, client_id: uuid.UUID) -> bytes:
    import json

    _, message = contract_examples("agency_client.revoked")[0]
    message["data"]["client_id"] = str(client_id)
    return json.dumps(message).encode()


def test_a_revoked_clients_token_is_refused_at_once(agency_client_for, contract_examples):
    revoked_id, other_id = uuid.uuid4(), uuid.uuid4()
    revoked, second_token = agency_client_for(revoked_id), agency_client_for(revoked_id)
    assert revoked.get("/mds/vehicles").status_code == 200

    assert handle_message(_revoked_event(contract_examples, revoked_id), user_id="auth") is Outcome.ACK

    for client in (revoked, second_token):  # every token of the client, also one issued before
        response = client.get("/mds/stops")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"].endswith("/token-invalid")
        assert "revoked" in response.json()["detail"]
    assert agency_client_for(other_id).get("/mds/stops").status_code == 200
    # The report (its own Accept rule) is behind the same check.
    assert revoked.get("/mds/reports/2020-01.csv").status_code == 401


def test_each_agency_client_has_one_rate_budget(agency_client_for, settings):
    settings.MDS_RATE_PER_SECOND = 0.001  # one request per 1000 s: the test's own pace never matters
    settings.MDS_RATE_BURST = 2
    client_id = uuid.uuid4()
    first, second = agency_client_for(client_id), agency_client_for(client_id)
    assert [first.get("/mds/stops").status_code for _ in range(2)] == [200, 200]
    assert second.get("/mds/vehicles").status_code == 200  # the third of the burst, with another token

    for client in (first, second):
        refused = client.get("/mds/stops")
        assert refused.status_code == 429
        assert refused["Content-Type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/rate-limited")
        assert 1 <= int(refused["Retry-After"]) <= 1000
    assert agency_client_for(uuid.uuid4()).get("/mds/stops").status_code == 200

    # Once the next slot opened (simulated), the client is served again.
    AgencyRateBucket.objects.filter(client_id=client_id).update(
        tat=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    assert first.get("/mds/stops").status_code == 200


def test_only_agency_tokens_are_counted(client_for, settings):
    settings.MDS_RATE_PER_SECOND = 0.001
    settings.MDS_RATE_BURST = 0
    rider = client_for(uuid.uuid4())
    assert [rider.get("/mds/stops", HTTP_ACCEPT=ACCEPT).status_code for _ in range(3)] == [403] * 3
    assert APIClient().get("/mds/stops", HTTP_ACCEPT=ACCEPT).status_code == 401
    assert not AgencyRateBucket.objects.exists()


def test_no_limit_when_the_rate_is_zero(agency_client_for, settings):
    settings.MDS_RATE_PER_SECOND = 0
    client = agency_client_for(uuid.uuid4())
    assert {client.get("/mds/stops").status_code for _ in range(5)} == {200}
    assert not AgencyRateBucket.objects.exists()
