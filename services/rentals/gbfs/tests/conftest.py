import datetime as dt
import json
import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.urls import NoReverseMatch, reverse

SCHEMA_VERSION = "v3.0"


@pytest.fixture(autouse=True)
def _gbfs_urls_and_fresh_cache(settings):
    """Route /gbfs/ even before config/urls.py includes it, and start every test with an empty feed cache."""
    try:
        reverse("gbfs-gbfs")
    except NoReverseMatch:
        settings.ROOT_URLCONF = "gbfs.tests.urls"
    for key in [name for name in dir(django_settings) if name.startswith("GBFS_")]:
        delattr(settings, key)
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture(autouse=True)
def _no_gbfs_env(monkeypatch):
    for name in [name for name in os.environ if name.startswith("GBFS_") and name != "GBFS_SCHEMAS_DIR"]:
        monkeypatch.delenv(name)


def _schemas_dir() -> Path | None:
    candidates = []
    if os.environ.get("GBFS_SCHEMAS_DIR"):
        candidates.append(Path(os.environ["GBFS_SCHEMAS_DIR"]))
    # The repository's tools venv, where gbfs-validator vendors MobilityData's schemas.
    repo = Path(django_settings.BASE_DIR).parent.parent
    candidates.extend(sorted(repo.glob(".venv/lib/python3*/site-packages/gbfs_validator/data/schemas")))
    try:
        import gbfs_validator

        candidates.append(Path(gbfs_validator.__file__).parent / "data" / "schemas")
    except ImportError:
        pass
    for candidate in candidates:
        for directory in (candidate / SCHEMA_VERSION, candidate):
            if (directory / "gbfs.json").is_file() and (directory / "vehicle_status.json").is_file():
                return directory
    return None


@pytest.fixture(scope="session")
def gbfs_schemas() -> dict[str, dict]:
    directory = _schemas_dir()
    if directory is None:
        pytest.skip(
            "MobilityData GBFS v3.0 JSON schemas not found: install gbfs-validator in the repository's .venv "
            "or set GBFS_SCHEMAS_DIR to its data/schemas directory"
        )
    return {path.stem: json.loads(path.read_text()) for path in directory.glob("*.json")}


@pytest.fixture
def fleet(db):
    """Two stations and a tariff; `fleet.bike(...)` adds bikes."""
    from fleet.models import Bike, Station, Tariff

    class Fleet:
        def __init__(self):
            self.alex = Station.objects.create(name="GBFS Alex", lat=52.5219, lon=13.4132, capacity=4)
            self.potsdamer = Station.objects.create(
                name="GBFS Potsdamer", lat=52.5097, lon=13.3765, capacity=10
            )
            self.tariff = Tariff.objects.create(
                name="Standard",
                unlock_fee=100,
                price_per_minute=25,
                daily_cap=2000,
                currency="EUR",
                valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            )
            self.count = 0

        def bike(self, *, status="available", station="alex", model="Velo City 3", lat=None, lon=None):
            self.count += 1
            at = getattr(self, station) if station else None
            return Bike.objects.create(
                number=f"G-{self.count:05d}-{uuid.uuid4().hex[:4]}",
                model=model,
                status=status,
                station=at,
                lat=lat if lat is not None else (at.lat if at else None),
                lon=lon if lon is not None else (at.lon if at else None),
            )

    return Fleet()


@pytest.fixture
def finish_trip(db):
    """A trip of `bike` through the rentals app's own services (rent, then return it to its station)."""
    from rentals.services import rental_finish, rental_start

    def _finish(bike):
        rider = uuid.uuid4()
        rental = rental_start(
            user_id=rider, user_email="rider@example.com", user_name="Rider", bike_id=bike.id
        )
        return rental_finish(user_id=rider, rental_id=rental.id, station_id=bike.station_id)

    return _finish
