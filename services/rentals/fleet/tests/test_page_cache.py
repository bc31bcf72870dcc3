"""The bike-list page cache in front of Django, against the real database and its notifications."""

import io
import json
import select
import sys
import time
import uuid

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.utils import timezone

from fleet import page_cache
from fleet.models import Bike, BikeStatus
from fleet.page_cache import BikeListPageCache, FleetChangeFeed

pytestmark = pytest.mark.django_db(transaction=True)


class CountingApp:
    """Django's WSGI application, counting the requests that reach it."""

    def __init__(self) -> None:
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.django(environ, start_response)


def environ(*, token: str | None, path: str = "/api/bikes", query: str = "", method: str = "GET") -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "HTTP_ACCEPT": "application/json",
    }
    if token is not None:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def call(app, env) -> tuple[str, dict, bytes]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    result = app(env, start_response)
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return seen["status"], seen["headers"], body


def wait_for_change(feed: FleetChangeFeed, since: int) -> None:
    deadline = time.monotonic() + 5
    while feed.generation() == since:
        assert time.monotonic() < deadline, "no fleet_bike_changed notification arrived"
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def _cache_settings(settings):
    settings.BIKE_LIST_CACHE_SECONDS = 30
    settings.RIDER_STATUS_CACHE_SECONDS = 5


@pytest.fixture
def feed():
    feed = FleetChangeFeed()
    yield feed
    feed.close()


@pytest.fixture
def inner():
    return CountingApp()


@pytest.fixture
def app(inner, feed):
    return BikeListPageCache(inner, feed=feed)


@pytest.fixture
def token(make_token):
    return make_token()


def test_a_repeated_read_is_answered_from_memory_with_its_own_request_id(app, inner, token, make_bike):
    make_bike()
    first = call(app, environ(token=token))
    second = call(app, environ(token=token))
    third = call(app, environ(token=token))

    assert inner.calls == 1
    assert first[0] == second[0] == third[0] == "200 OK"
    assert first[2] == second[2] == third[2]
    assert len(json.loads(second[2])["results"]) == 1
    ids = {first[1].pop("X-Request-ID"), second[1].pop("X-Request-ID"), third[1].pop("X-Request-ID")}
    assert len(ids) == 3
    assert first[1] == second[1] == third[1]


def test_an_incoming_request_id_is_echoed_on_a_hit(app, token, make_bike):
    make_bike()
    call(app, environ(token=token))
    env = environ(token=token)
    env["HTTP_X_REQUEST_ID"] = "trace-42"
    assert call(app, env)[1]["X-Request-ID"] == "trace-42"


def test_a_committed_bike_change_drops_the_pages(app, inner, feed, token, make_bike):
    bike = make_bike()
    call(app, environ(token=token))
    before = feed.generation()

    Bike.objects.filter(id=bike.id).update(status=BikeStatus.MAINTENANCE)  # commits (autocommit)
    wait_for_change(feed, before)
    status, _, body = call(app, environ(token=token))

    assert inner.calls == 2
    assert status == "200 OK" and json.loads(body)["results"] == []


def test_a_change_made_with_plain_sql_or_truncate_is_noticed(app, feed, token, make_bike):
    make_bike()
    call(app, environ(token=token))
    for statement in ("UPDATE fleet_bike SET model = 'renamed'", "TRUNCATE fleet_bike CASCADE"):
        before = feed.generation()
        with connection.cursor() as cursor:
            cursor.execute(statement)
        wait_for_change(feed, before)


def test_queries_are_kept_apart_and_errors_are_never_kept(app, inner, token, make_bike, other_station):
    make_bike()
    make_bike(at=other_station)
    by_station = f"station_id={other_station.id}"
    assert len(json.loads(call(app, environ(token=token, query=by_station))[2])["results"]) == 1
    assert len(json.loads(call(app, environ(token=token))[2])["results"]) == 2
    assert call(app, environ(token=token, query="page_size=ten"))[0].startswith("400")
    assert call(app, environ(token=token, query="page_size=ten"))[0].startswith("400")
    assert inner.calls == 4
    call(app, environ(token=token, query=by_station))
    call(app, environ(token=token))
    assert inner.calls == 4


def test_requests_it_cannot_vouch_for_go_to_django(app, inner, token, make_token, make_bike, admin):
    make_bike()
    call(app, environ(token=token))
    assert inner.calls == 1

    refused = [
        environ(token=None),
        environ(token="not-a-jwt"),
        environ(token=make_token(expires_in=-60)),
        environ(token=token, method="HEAD"),
        environ(token=token, path="/api/stations"),
    ]
    for env in refused:
        call(app, env)
    assert inner.calls == 1 + len(refused)
    assert call(app, environ(token=None))[0].startswith("401")


def test_a_deactivated_rider_is_refused_by_django(app, inner, make_token, make_bike):
    from riders.models import Rider
    from riders.selectors import deactivated_riders

    make_bike()
    user_id = uuid.uuid4()
    token = make_token(user_id=user_id)
    call(app, environ(token=token))
    Rider.objects.create(user_id=user_id, is_deactivated=True, status_changed_at=timezone.now())
    deactivated_riders.reset()  # as when the process's copy is next reloaded

    for _ in range(2):
        status = call(app, environ(token=token))[0]
        assert status.startswith("403"), status
    assert inner.calls == 3


def test_without_the_rider_copy_every_read_goes_to_django(app, inner, token, make_bike, settings):
    settings.RIDER_STATUS_CACHE_SECONDS = 0
    make_bike()
    for _ in range(3):
        call(app, environ(token=token))
    assert inner.calls == 3


def test_a_page_is_rebuilt_after_the_maximum_age(app, inner, token, make_bike, monkeypatch):
    make_bike()
    call(app, environ(token=token))
    call(app, environ(token=token))
    assert inner.calls == 1
    later = time.monotonic() + 31
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: later)
    call(app, environ(token=token))
    assert inner.calls == 2


def test_off_when_the_setting_is_zero(app, inner, token, make_bike, settings):
    settings.BIKE_LIST_CACHE_SECONDS = 0
    make_bike()
    for _ in range(2):
        call(app, environ(token=token))
    assert inner.calls == 2


def test_a_lost_listen_connection_is_noticed_and_replaced(app, inner, feed, token, make_bike, monkeypatch):
    monkeypatch.setattr(page_cache, "RETRY_SECONDS", 0.0)
    make_bike()
    call(app, environ(token=token))
    before = feed.generation()
    with connection.cursor() as cursor:
        pid = feed._listener._wrapper.connection.get_backend_pid()
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    deadline = time.monotonic() + 5
    while feed.generation() is not None:  # its socket turns readable without a notification
        assert time.monotonic() < deadline
        time.sleep(0.01)
    call(app, environ(token=token))  # listens again; pages built before count no more
    assert inner.calls == 2
    assert feed.generation() > before
    call(app, environ(token=token))
    assert inner.calls == 2


def test_while_changes_cannot_be_followed_every_read_goes_to_django(inner, token, make_bike):
    class Unavailable:
        def generation(self):
            return None

    app = BikeListPageCache(inner, feed=Unavailable())
    make_bike()
    for _ in range(3):
        assert call(app, environ(token=token))[0] == "200 OK"
    assert inner.calls == 3


def test_a_write_answered_here_drops_the_pages_before_its_answer(
    inner, token, make_token, make_bike, station
):
    class Silent:  # no notification ever arrives: only the write itself can drop the page
        def generation(self):
            return 1

    app = BikeListPageCache(inner, feed=Silent())
    make_bike()
    call(app, environ(token=token))
    call(app, environ(token=token))
    assert inner.calls == 1

    create = environ(token=make_token(roles=("rider", "admin")), method="POST")
    body = json.dumps({"number": "W-1", "model": "Test", "station_id": str(station.id)}).encode()
    create.update(
        {"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json"}
    )
    assert call(app, create)[0].startswith("201")

    assert len(json.loads(call(app, environ(token=token))[2])["results"]) == 2
    assert inner.calls == 3


def test_every_request_reads_the_pending_notifications(app, feed, token, make_bike, station):
    """Whatever a request asks for, the process reads its LISTEN socket: PostgreSQL's notification queue
    only moves on while each listener's backend can hand its notifications over."""
    bike = make_bike()
    call(app, environ(token=token))
    raw = feed._listener._wrapper.connection
    Bike.objects.filter(id=bike.id).update(status=BikeStatus.MAINTENANCE)
    assert select.select([raw], [], [], 5)[0], "no notification arrived"

    assert call(app, environ(token=token, path=f"/api/stations/{station.id}"))[0] == "200 OK"

    assert select.select([raw], [], [], 0)[0] == []
