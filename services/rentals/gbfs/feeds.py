"""A GBFS file as served: envelope, bytes, ETag, and a short server-side cache.

Time is cut into windows of `ttl` seconds (aligned on the epoch). A document belongs to one window:
`last_updated` is the window's start and it expires at the window's end, so a status feed is never staler
than its ttl (≤ 60 s) and `last_updated + ttl` is exactly when fresh data is published. Because the window,
not the build instant, is in the body, every web worker (each with its own cache) builds the same bytes,
hence the same ETag, as long as the data did not change, and `If-None-Match` gets 304 from any of them."""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.core.cache import caches
from django.utils import timezone

from gbfs import selectors
from gbfs.conf import GbfsConfig, gbfs_config


@dataclass(frozen=True)
class FeedDocument:
    body: bytes
    etag: str
    ttl: int
    built_at: dt.datetime

    def max_age(self, *, now: dt.datetime) -> int:
        """Seconds a client may keep it: what is left of the ttl since it was built."""
        age = int((now - self.built_at).total_seconds())
        return max(self.ttl - max(age, 0), 0)


def _data(*, feed: str, config: GbfsConfig, base_url: str, now: dt.datetime) -> dict:
    if feed == "gbfs":
        return selectors.gbfs_discovery_data(base_url=base_url)
    if feed == "gbfs_versions":
        return selectors.gbfs_versions_data(base_url=base_url)
    if feed == "system_information":
        return selectors.system_information_data(config=config)
    if feed == "vehicle_types":
        return selectors.vehicle_types_data(config=config)
    if feed == "station_information":
        return selectors.station_information_data(config=config)
    if feed == "station_status":
        return selectors.station_status_data(now=now)
    if feed == "vehicle_status":
        return selectors.vehicle_status_data(config=config)
    if feed == "system_pricing_plans":
        return selectors.system_pricing_plans_data(config=config)
    if feed == "system_alerts":
        return selectors.system_alerts_data(now=now)
    if feed == "geofencing_zones":
        return selectors.geofencing_zones_data(config=config)
    raise ValueError(f"unknown GBFS feed {feed!r}")


def feed_ttl(*, feed: str, config: GbfsConfig) -> int:
    return config.status_ttl if feed in selectors.SHORT_TTL_FEEDS else config.info_ttl


def window_start(*, now: dt.datetime, ttl: int) -> dt.datetime:
    if ttl <= 0:
        return now.replace(microsecond=0)
    seconds = int(now.timestamp())
    return dt.datetime.fromtimestamp(seconds - seconds % ttl, tz=dt.UTC)


def feed_build(
    *, feed: str, base_url: str, config: GbfsConfig | None = None, now: dt.datetime | None = None
) -> FeedDocument:
    config = config or gbfs_config()
    ttl = feed_ttl(feed=feed, config=config)
    now = window_start(now=now or timezone.now(), ttl=ttl)
    envelope = {
        "last_updated": selectors.rfc3339(now),
        "ttl": ttl,
        "version": selectors.GBFS_VERSION,
        "data": _data(feed=feed, config=config, base_url=base_url, now=now),
    }
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    return FeedDocument(body=body, etag=etag, ttl=ttl, built_at=now)


def feed_document(*, feed: str, base_url: str) -> FeedDocument:
    """The current window's document: from the cache when this process already built it."""
    config = gbfs_config()
    ttl = feed_ttl(feed=feed, config=config)
    now = timezone.now()
    if not config.cache_enabled or ttl == 0:
        return feed_build(feed=feed, base_url=base_url, config=config, now=now)
    window = window_start(now=now, ttl=ttl)
    scope = base_url if feed in selectors.DISCOVERY_FEEDS else ""
    key = "gbfs:v3:" + hashlib.sha256(f"{feed}|{scope}|{window.isoformat()}".encode()).hexdigest()
    cache = caches[config.cache_alias]
    document = cache.get(key)
    if document is None:
        document = feed_build(feed=feed, base_url=base_url, config=config, now=now)
        cache.set(key, document, timeout=max(document.max_age(now=now), 1))
    return document
