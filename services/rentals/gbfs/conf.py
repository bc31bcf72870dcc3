"""GBFS configuration: a Django setting of the same name wins, then the environment, then a default.

Nothing here needs an entry in config/settings: every knob is optional."""

import os
from dataclasses import dataclass

from django.conf import settings

MAX_STATUS_TTL = 60  # status feeds are never more than a minute stale


def _raw(name: str) -> str | None:
    value = getattr(settings, name, None)
    if value is None or value == "":
        value = os.environ.get(name)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _list(name: str, default: str) -> list[str]:
    value = getattr(settings, name, None)
    if isinstance(value, (list, tuple)):
        return [str(item).strip() for item in value if str(item).strip()]
    raw = _raw(name) or default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _int(name: str, default: int) -> int:
    raw = _raw(name)
    return default if raw is None else int(raw)


@dataclass(frozen=True)
class GbfsConfig:
    public_base_url: str | None
    system_id: str
    system_name: str
    operator: str
    timezone: str
    languages: list[str]
    opening_hours: str
    feed_contact_email: str
    license_url: str | None
    vehicle_id_secret: str
    status_ttl: int
    info_ttl: int
    cache_enabled: bool
    cache_alias: str
    pricing_cap_days: int
    vehicle_type_name: str
    propulsion_type: str
    max_range_meters: int | None

    @property
    def language(self) -> str:
        return self.languages[0]

    def localized(self, text: str) -> list[dict[str, str]]:
        """One entry per published language; names are proper names, so every language gets the same text."""
        return [{"text": text, "language": language} for language in self.languages]


def gbfs_config() -> GbfsConfig:
    base_url = _raw("GBFS_PUBLIC_BASE_URL")
    return GbfsConfig(
        public_base_url=base_url.rstrip("/") if base_url else None,
        system_id=_raw("GBFS_SYSTEM_ID") or "velo",
        system_name=_raw("GBFS_SYSTEM_NAME") or "Velo",
        operator=_raw("GBFS_OPERATOR") or "Velo Mobility",
        timezone=_raw("GBFS_TIMEZONE") or "Europe/Berlin",
        languages=_list("GBFS_LANGUAGES", "en") or ["en"],
        opening_hours=_raw("GBFS_OPENING_HOURS") or "24/7",
        feed_contact_email=_raw("GBFS_FEED_CONTACT_EMAIL") or "gbfs@velo.example",
        license_url=_raw("GBFS_LICENSE_URL"),
        vehicle_id_secret=_raw("GBFS_VEHICLE_ID_SECRET") or settings.SECRET_KEY,
        status_ttl=min(max(_int("GBFS_STATUS_TTL", 30), 0), MAX_STATUS_TTL),
        info_ttl=max(_int("GBFS_INFO_TTL", 300), 0),
        cache_enabled=(_raw("GBFS_CACHE") or "on").lower() not in ("0", "off", "false", "no"),
        cache_alias=_raw("GBFS_CACHE_ALIAS") or "default",
        pricing_cap_days=max(_int("GBFS_PRICING_CAP_DAYS", 7), 1),
        vehicle_type_name=_raw("GBFS_VEHICLE_TYPE_NAME") or "Velo bike",
        propulsion_type=_raw("GBFS_PROPULSION_TYPE") or "human",
        max_range_meters=None
        if _raw("GBFS_MAX_RANGE_METERS") is None
        else max(_int("GBFS_MAX_RANGE_METERS", 0), 0),
    )
