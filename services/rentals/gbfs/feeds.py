"""A GBFS file as served: envelope, bytes, ETag, and a short server-side cache.

A built document is cached for at most its `ttl`, so a status feed is never staler than its ttl (≤ 60 s),
and the body (hence the ETag) stays the same while cached, so `If-None-Match` revalidations get 304."""

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
    raise ValueError(f"unknown GBFS feed {feed!r}")


def feed_ttl(*, feed: str, config: GbfsConfig) -> int:
    return config.status_ttl if feed in selectors.STATUS_FEEDS else config.info_ttl


def feed_build(*, feed: str, base_url: str, config: GbfsConfig | None = None) -> FeedDocument:
    config = config or gbfs_config()
    now = timezone.now().replace(microsecond=0)
    ttl = feed_ttl(feed=feed, config=config)
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
    """The cached document if it is younger than its ttl, else a fresh one."""
    config = gbfs_config()
    ttl = feed_ttl(feed=feed, config=config)
    if not config.cache_enabled or ttl == 0:
        return feed_build(feed=feed, base_url=base_url, config=config)
    scope = base_url if feed in selectors.DISCOVERY_FEEDS else ""
    key = "gbfs:v3:" + hashlib.sha256(f"{feed}|{scope}".encode()).hexdigest()
    cache = caches[config.cache_alias]
    document = cache.get(key)
    if document is None or document.max_age(now=timezone.now()) == 0:
        document = feed_build(feed=feed, base_url=base_url, config=config)
        cache.set(key, document, timeout=ttl)
    return document
