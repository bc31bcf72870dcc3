"""`manage.py check` reports a GBFS configuration that would publish an invalid feed."""

import re
import zoneinfo

from django.core import checks

from gbfs.conf import gbfs_config

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
PROPULSION_TYPES = frozenset(
    {
        "human",
        "electric_assist",
        "electric",
        "combustion",
        "combustion_diesel",
        "hybrid",
        "plug_in_hybrid",
        "hydrogen_fuel_cell",
    }
)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@checks.register()
def gbfs_settings_check(app_configs=None, **kwargs):
    errors = []
    try:
        config = gbfs_config()
    except ValueError as exc:
        return [checks.Error(f"GBFS setting is not a number: {exc}", id="gbfs.E001")]
    if config.timezone not in zoneinfo.available_timezones():
        errors.append(
            checks.Error(f"GBFS_TIMEZONE {config.timezone!r} is not an IANA time zone", id="gbfs.E002")
        )
    bad = [language for language in config.languages if not LANGUAGE.match(language)]
    if bad:
        errors.append(checks.Error(f"GBFS_LANGUAGES has invalid IETF tags: {bad}", id="gbfs.E003"))
    if not EMAIL.match(config.feed_contact_email):
        errors.append(checks.Error("GBFS_FEED_CONTACT_EMAIL is not an e-mail address", id="gbfs.E004"))
    if config.public_base_url and not re.match(r"^https?://[^/]+", config.public_base_url):
        errors.append(checks.Error("GBFS_PUBLIC_BASE_URL must be an absolute http(s) URL", id="gbfs.E005"))
    if config.propulsion_type not in PROPULSION_TYPES:
        errors.append(
            checks.Error(f"GBFS_PROPULSION_TYPE must be one of {sorted(PROPULSION_TYPES)}", id="gbfs.E006")
        )
    elif config.propulsion_type != "human" and config.max_range_meters is None:
        errors.append(
            checks.Error("GBFS_MAX_RANGE_METERS is required for a motorised propulsion type", id="gbfs.E007")
        )
    return errors
