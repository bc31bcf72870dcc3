from gbfs.checks import gbfs_settings_check


def _ids(errors):
    return sorted(error.id for error in errors)


def test_defaults_pass():
    assert gbfs_settings_check() == []


def test_bad_settings_are_reported(settings):
    settings.GBFS_TIMEZONE = "Mars/Olympus"
    settings.GBFS_LANGUAGES = "english"
    settings.GBFS_FEED_CONTACT_EMAIL = "nobody"
    settings.GBFS_PUBLIC_BASE_URL = "velo.example"
    assert _ids(gbfs_settings_check()) == ["gbfs.E002", "gbfs.E003", "gbfs.E004", "gbfs.E005"]


def test_non_numeric_ttl_is_reported(settings):
    settings.GBFS_STATUS_TTL = "soon"
    assert _ids(gbfs_settings_check()) == ["gbfs.E001"]


def test_propulsion_must_be_known_and_motorised_needs_a_range(settings):
    settings.GBFS_PROPULSION_TYPE = "pedal"
    assert _ids(gbfs_settings_check()) == ["gbfs.E006"]
    settings.GBFS_PROPULSION_TYPE = "electric_assist"
    assert _ids(gbfs_settings_check()) == ["gbfs.E007"]
    settings.GBFS_MAX_RANGE_METERS = 50000
    assert gbfs_settings_check() == []
