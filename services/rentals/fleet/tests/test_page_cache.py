"""The bike-list page cache in front of Django, against the real database and its notifications: pages live
for at most the maximum age, and a writer reads their own change at once, in any process."""

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


def post(app, *, token: str, path: str, payload: dict) -> tuple[str, dict, bytes]:
    env = environ(token=token, path=path, method="POST")
    body = json.dumps(payload).encode()
    env.update(
        {"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json"}
    )
    return call(app, env)


def wait_for_announcement(feed: FleetChangeFeed) -> None:
    """Until a notification is readable on the feed's connection (delivery to another process is
    asynchronous; the next request reads it)."""
    raw = feed._listener._wrapper.connection
    assert raw.notifies or select.select([raw], [], [], 5)[0], "no fleet_bike_changed notification arrived"


@pytest.fixture(autouse=True)
def _cache_settings(settings):
    settings.BIKE_LIST_MAX_AGE_SECONDS = 30  # long, so that no page expires by itself during a test
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


def test_another_riders_change_shows_once_the_page_is_older_than_the_maximum_age(
    app, inner, token, make_bike, monkeypatch
):
    bike = make_bike()
    call(app, environ(token=token))
    Bike.objects.filter(id=bike.id).update(status=BikeStatus.MAINTENANCE)  # committed, by nobody who reads

    assert len(json.loads(call(app, environ(token=token))[2])["results"]) == 1  # within the age: memory
    assert inner.calls == 1
    later = time.monotonic() + 31
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: later)
    assert json.loads(call(app, environ(token=token))[2])["results"] == []
    assert inner.calls == 2


def test_a_bike_change_sends_no_notification_inside_its_transaction(app, feed, token, make_bike):
    """No trigger on fleet_bike: a committed change, by the ORM or plain SQL, notifies nobody (a NOTIFY in
    the transaction would take PostgreSQL's database-wide notify lock through its commit)."""
    bike = make_bike()
    call(app, environ(token=token))  # listening from here on
    Bike.objects.filter(id=bike.id).update(status=BikeStatus.MAINTENANCE)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE fleet_bike SET model = 'renamed'")
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'fleet_bike'::regclass AND NOT tgisinternal"
        )
        assert cursor.fetchone()[0] == 0
    raw = feed._listener._wrapper.connection
    assert select.select([raw], [], [], 0.5)[0] == []


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


@pytest.mark.parametrize("name", ["BIKE_LIST_MAX_AGE_SECONDS", "BIKE_LIST_CACHE_SECONDS"])
def test_off_when_either_setting_is_zero(app, inner, token, make_bike, settings, name):
    setattr(settings, name, 0)
    make_bike()
    for _ in range(2):
        call(app, environ(token=token))
    assert inner.calls == 2


def test_the_former_setting_can_only_lower_the_age(app, inner, token, make_bike, settings, monkeypatch):
    settings.BIKE_LIST_CACHE_SECONDS = 2
    make_bike()
    call(app, environ(token=token))
    later = time.monotonic() + 3
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: later)
    call(app, environ(token=token))
    assert inner.calls == 2


def test_a_lost_listen_connection_is_noticed_and_replaced(app, inner, feed, token, make_bike, monkeypatch):
    monkeypatch.setattr(page_cache, "RETRY_SECONDS", 0.0)
    make_bike()
    call(app, environ(token=token))
    with connection.cursor() as cursor:
        pid = feed._listener._wrapper.connection.get_backend_pid()
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    deadline = time.monotonic() + 5
    while feed.poll() is not None:  # its socket turns readable without a notification
        assert time.monotonic() < deadline
        time.sleep(0.01)
    call(app, environ(token=token))  # listens again; announcements may have been missed: pages dropped
    assert inner.calls == 2
    call(app, environ(token=token))
    assert inner.calls == 2


def test_while_writers_cannot_be_followed_every_read_goes_to_django(inner, token, make_bike):
    class Unavailable:
        def poll(self):
            return None

        def announce(self, user_id):
            pass

    app = BikeListPageCache(inner, feed=Unavailable())
    make_bike()
    for _ in range(3):
        assert call(app, environ(token=token))[0] == "200 OK"
    assert inner.calls == 3


class Silent:
    """A feed on which nothing is ever announced: only the process's own bookkeeping can act."""

    def __init__(self) -> None:
        self.announced = []

    def poll(self):
        return 1, []

    def announce(self, user_id):
        self.announced.append(user_id)


def test_a_list_reflects_the_writers_change_at_once(inner, token, make_token, make_bike, station):
    feed = Silent()
    app = BikeListPageCache(inner, feed=feed)
    make_bike()
    call(app, environ(token=token))
    call(app, environ(token=token))
    assert inner.calls == 1

    writer_id = uuid.uuid4()
    writer = make_token(user_id=writer_id, roles=("rider", "admin"))
    created = post(
        app,
        token=writer,
        path="/api/bikes",
        payload={"number": "W-1", "model": "T", "station_id": str(station.id)},
    )
    assert created[0].startswith("201")
    assert feed.announced == [str(writer_id)]

    # The writer's next read is built after their write; everyone else may get the page from before it
    # (within the maximum age) until that newer page replaces it.
    assert len(json.loads(call(app, environ(token=writer))[2])["results"]) == 2
    assert inner.calls == 3
    assert len(json.loads(call(app, environ(token=token))[2])["results"]) == 2
    assert len(json.loads(call(app, environ(token=writer))[2])["results"]) == 2
    assert inner.calls == 3


def test_a_refused_write_announces_nobody(inner, make_token, make_bike, station):
    feed = Silent()
    app = BikeListPageCache(inner, feed=feed)
    assert post(app, token=make_token(), path="/api/bikes", payload={"number": "W-1"})[0].startswith("403")
    assert post(app, token="not-a-jwt", path="/api/bikes", payload={"number": "W-1"})[0].startswith("401")
    assert feed.announced == []


def test_the_cache_picks_up_another_processs_writer(inner, token, make_token, make_bike, station):
    """Two web processes: a rider's write answered by one makes the other build their next page anew."""
    here, there = FleetChangeFeed(), FleetChangeFeed()
    try:
        app_here = BikeListPageCache(inner, feed=here)
        app_there = BikeListPageCache(CountingApp(), feed=there)
        make_bike()
        writer_id = uuid.uuid4()
        writer = make_token(user_id=writer_id, roles=("rider", "admin"))
        for app in (app_here, app_there):
            call(app, environ(token=writer))
            call(app, environ(token=token))
        assert app_there.app.calls == 1

        payload = {"number": "W-2", "model": "T", "station_id": str(station.id)}
        assert post(app_here, token=writer, path="/api/bikes", payload=payload)[0].startswith("201")
        wait_for_announcement(there)

        assert len(json.loads(call(app_there, environ(token=writer))[2])["results"]) == 2
        assert app_there.app.calls == 2
        assert len(json.loads(call(app_there, environ(token=token))[2])["results"]) == 2  # the newer page
        assert app_there.app.calls == 2
    finally:
        here.close()
        there.close()


def test_every_request_reads_the_pending_notifications(app, feed, token, make_bike, station):
    """Whatever a request asks for, the process reads its LISTEN socket: PostgreSQL's notification queue
    only moves on while each listener's backend can hand its notifications over."""
    make_bike()
    call(app, environ(token=token))
    other = FleetChangeFeed()
    try:
        other.poll()
        other.announce(str(uuid.uuid4()))
    finally:
        other.close()
    wait_for_announcement(feed)

    assert call(app, environ(token=token, path=f"/api/stations/{station.id}"))[0] == "200 OK"

    raw = feed._listener._wrapper.connection
    assert not raw.notifies and select.select([raw], [], [], 0)[0] == []
