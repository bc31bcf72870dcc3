"""The per-agency MDS rate limit (GCRA in one statement) against real PostgreSQL. The rates are so slow
(one request per 1000 s) that how long a test takes never matters; time passing is simulated by moving the
bucket's theoretical arrival time back."""

import datetime as dt
import uuid

import pytest
from core.testing import race

from agencies.models import AgencyRateBucket
from agencies.services import agency_request_admit

SLOW = 0.001  # requests per second: one every 1000 s


@pytest.mark.django_db
def test_a_burst_is_admitted_then_refused_with_the_wait():
    client = uuid.uuid4()
    waits = [agency_request_admit(client_id=client, rate_per_second=SLOW, burst=2) for _ in range(4)]
    assert waits[:3] == [0, 0, 0]
    wait = waits[3]
    assert 500 < wait <= 1000  # the next slot opens one interval after the burst was used up
    tat = AgencyRateBucket.objects.get(client_id=client).tat
    assert agency_request_admit(client_id=client, rate_per_second=SLOW, burst=2) > 0
    assert AgencyRateBucket.objects.get(client_id=client).tat == tat  # a refusal counts nothing

    # Another agency has its own budget.
    assert agency_request_admit(client_id=uuid.uuid4(), rate_per_second=SLOW, burst=2) == 0

    # One interval later, exactly one more request fits.
    AgencyRateBucket.objects.filter(client_id=client).update(tat=tat - dt.timedelta(seconds=1000))
    assert agency_request_admit(client_id=client, rate_per_second=SLOW, burst=2) == 0
    assert agency_request_admit(client_id=client, rate_per_second=SLOW, burst=2) > 0


@pytest.mark.django_db
def test_an_idle_agency_gets_its_whole_burst_back_and_no_more():
    client = uuid.uuid4()
    agency_request_admit(client_id=client, rate_per_second=SLOW, burst=1)
    AgencyRateBucket.objects.filter(client_id=client).update(
        tat=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    )
    admitted = [agency_request_admit(client_id=client, rate_per_second=SLOW, burst=1) == 0 for _ in range(4)]
    assert admitted == [True, True, False, False]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_share_one_budget():
    client = uuid.uuid4()
    results = race([lambda: agency_request_admit(client_id=client, rate_per_second=SLOW, burst=4)] * 10)
    assert sorted(result == 0 for result in results) == [False] * 5 + [True] * 5, results
