import datetime as dt
import json
import re
from types import SimpleNamespace

import pytest
from django.test import Client
from fleet.models import Bike, BikeStatus, Station

from gbfs import apis, feeds
from gbfs.selectors import FEEDS

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def url(feed: str) -> str:
    return f"/gbfs/v3/{feed}.json"


def _freeze(monkeypatch, moment: dt.datetime) -> None:
    clock = SimpleNamespace(now=lambda: moment)
    monkeypatch.setattr(feeds, "timezone", clock)
    monkeypatch.setattr(apis, "timezone", clock)


@pytest.mark.parametrize("feed", FEEDS)
def test_every_feed_is_public_and_carries_the_envelope(client, fleet, feed):
    fleet.bike()
    response = client.get(url(feed))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"last_updated", "ttl", "version", "data"}
    assert body["version"] == "3.0"
    assert RFC3339.match(body["last_updated"])
    assert dt.datetime.fromisoformat(body["last_updated"]).utcoffset() == dt.timedelta(0)
    assert isinstance(body["ttl"], int) and body["ttl"] >= 0
    max_age = int(response["Cache-Control"].removeprefix("public, max-age="))
    assert 0 < max_age <= body["ttl"]  # what is left of the feed's ttl window
    assert re.fullmatch(r'"[0-9a-f]{40}"', response["ETag"])


def test_status_feeds_are_at_most_a_minute_stale(client, fleet, settings):
    settings.GBFS_STATUS_TTL = 600  # asked for more, clamped to the spec's freshness promise
    for feed in ("station_status", "vehicle_status"):
        assert client.get(url(feed)).json()["ttl"] == 60


def test_a_bad_token_does_not_matter(fleet):
    client = Client(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get(url("vehicle_status")).status_code == 200


def test_if_none_match_gives_304_without_body(client, fleet):
    fleet.bike()
    first = client.get(url("vehicle_status"))
    etag = first["ETag"]

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(url("vehicle_status"), HTTP_IF_NONE_MATCH=header)
        assert again.status_code == 304, header
        assert again.content == b""
        assert again["ETag"] == etag
        assert again["Cache-Control"].startswith("public, max-age=")

    assert client.get(url("vehicle_status"), HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_etag_is_the_body_hash_and_changes_with_the_data(client, fleet, settings):
    settings.GBFS_CACHE = "off"
    import hashlib

    first = client.get(url("station_information"))
    assert first["ETag"] == '"' + hashlib.sha256(first.content).hexdigest()[:40] + '"'
    Station.objects.create(name="GBFS New", lat=52.0, lon=13.0, capacity=3)
    second = client.get(url("station_information"))
    assert second["ETag"] != first["ETag"]
    assert client.get(url("station_information"), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_cached_status_feed_is_rebuilt_once_its_ttl_has_passed(client, fleet, monkeypatch):
    start = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    bike = fleet.bike()
    _freeze(monkeypatch, start)
    first = client.get(url("vehicle_status"))
    assert len(first.json()["data"]["vehicles"]) == 1

    Bike.objects.filter(id=bike.id).update(status=BikeStatus.RENTED)
    _freeze(monkeypatch, start + dt.timedelta(seconds=20))
    cached = client.get(url("vehicle_status"))
    assert cached.content == first.content  # same bytes, same ETag: revalidation works
    assert cached["Cache-Control"] == "public, max-age=10"  # only what is left of the 30 s ttl

    _freeze(monkeypatch, start + dt.timedelta(seconds=30))
    fresh = client.get(url("vehicle_status"))
    assert fresh.json()["data"]["vehicles"] == []
    assert fresh.json()["last_updated"] == "2026-01-01T12:00:30+00:00"
    assert fresh["Cache-Control"] == "public, max-age=30"


def test_workers_with_separate_caches_build_the_same_etag_within_a_window(client, fleet, monkeypatch):
    from django.core.cache import caches

    fleet.bike()
    start = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    _freeze(monkeypatch, start + dt.timedelta(seconds=3))
    first = client.get(url("vehicle_status"))
    caches["default"].clear()  # another worker: nothing cached yet
    _freeze(monkeypatch, start + dt.timedelta(seconds=17))
    second = client.get(url("vehicle_status"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 304
    assert second["Cache-Control"] == "public, max-age=13"
    assert first.json()["last_updated"] == "2026-01-01T12:00:00+00:00"


def test_head_is_answered(client, fleet):
    response = client.head(url("system_information"))
    assert response.status_code == 200
    assert response["ETag"]


def test_discovery_lists_every_feed_with_absolute_urls_from_the_request(client, fleet):
    body = client.get(url("gbfs"), HTTP_HOST="bikes.example.org").json()
    feeds_listed = {feed["name"]: feed["url"] for feed in body["data"]["feeds"]}
    assert set(feeds_listed) == set(FEEDS)
    assert feeds_listed["station_status"] == "http://bikes.example.org/gbfs/v3/station_status.json"


def test_discovery_honours_forwarded_proto_and_host(client, fleet):
    response = client.get(
        url("gbfs"),
        HTTP_HOST="rentals:8002",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="velo.example, proxy.internal",
    )
    urls = [feed["url"] for feed in response.json()["data"]["feeds"]]
    assert all(u.startswith("https://velo.example/gbfs/v3/") for u in urls)
    assert "X-Forwarded-Host" in response["Vary"]
    versions = client.get(
        url("gbfs_versions"), HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="velo.example"
    ).json()
    assert versions["data"]["versions"] == [
        {"version": "3.0", "url": "https://velo.example/gbfs/v3/gbfs.json"}
    ]


def test_forwarded_host_outside_allowed_hosts_is_ignored(client, fleet, settings):
    settings.ALLOWED_HOSTS = ["velo.example"]
    response = client.get(url("gbfs"), HTTP_HOST="velo.example", HTTP_X_FORWARDED_HOST="evil.example")
    assert all(feed["url"].startswith("http://velo.example/") for feed in response.json()["data"]["feeds"])


def test_forwarded_proto_must_be_http_or_https(client, fleet):
    response = client.get(url("gbfs"), HTTP_HOST="velo.example", HTTP_X_FORWARDED_PROTO="javascript")
    assert response.json()["data"]["feeds"][0]["url"].startswith("http://velo.example/")


def test_configured_public_base_url_wins(client, fleet, settings):
    settings.GBFS_PUBLIC_BASE_URL = "https://gbfs.velo.example/"
    response = client.get(url("gbfs"), HTTP_HOST="whatever.example", HTTP_X_FORWARDED_PROTO="http")
    assert (
        response.json()["data"]["feeds"][1]["url"] == "https://gbfs.velo.example/gbfs/v3/gbfs_versions.json"
    )
    assert not response.has_header("Vary") or "X-Forwarded-Host" not in response["Vary"]


def test_discovery_cache_is_per_base_url(client, fleet):
    one = client.get(url("gbfs"), HTTP_HOST="one.example").json()
    two = client.get(url("gbfs"), HTTP_HOST="two.example").json()
    assert "one.example" in one["data"]["feeds"][0]["url"]
    assert "two.example" in two["data"]["feeds"][0]["url"]


def test_unknown_feed_is_problem_404(client):
    response = client.get("/gbfs/v3/free_bike_status.json")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "https://velo.example/problems/not-found"


def test_writes_are_problem_405(client):
    response = client.post(url("gbfs"), data="{}", content_type="application/json")
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "https://velo.example/problems/method-not-allowed"


def test_prices_are_exact_decimal_text(client, fleet):
    raw = client.get(url("system_pricing_plans")).content.decode()
    assert '"rate":0.25' in raw
    assert '"price":1' in raw
    assert json.loads(raw)["data"]["plans"][0]["per_min_pricing"][0]["end"] == 80


def test_query_count_does_not_grow_with_the_fleet(
    client, fleet, finish_trip, settings, django_assert_max_num_queries
):
    """Each feed costs as many queries for 3 bikes at 2 stations as for 120 bikes at 22 stations."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.GBFS_CACHE = "off"

    def counts():
        result = {}
        for feed in FEEDS:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url(feed)).status_code == 200
            result[feed] = len(captured)
        return result

    finish_trip(fleet.bike())
    fleet.bike(status=BikeStatus.MAINTENANCE)
    fleet.bike(status=BikeStatus.RESERVED, station="potsdamer")
    small = counts()

    stations = [Station(name=f"GBFS S{i}", lat=52.0 + i / 100, lon=13.0, capacity=10) for i in range(20)]
    Station.objects.bulk_create(stations)
    statuses = [BikeStatus.AVAILABLE, BikeStatus.RESERVED, BikeStatus.MAINTENANCE, BikeStatus.RENTED]
    bikes = Bike.objects.bulk_create(
        Bike(
            number=f"BULK-{i:04d}",
            model=f"Model {i % 3}",
            status=statuses[i % 4],
            station=stations[i % 20] if statuses[i % 4] != BikeStatus.RENTED else None,
            lat=52.1,
            lon=13.1,
        )
        for i in range(117)
    )
    for bike in [bike for bike in bikes if bike.status == BikeStatus.AVAILABLE][:10]:
        finish_trip(bike)
    for feed in FEEDS:
        with django_assert_max_num_queries(small[feed]):
            assert client.get(url(feed)).status_code == 200
    assert max(small.values()) <= 3
