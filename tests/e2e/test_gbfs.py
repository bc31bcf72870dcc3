"""GBFS v3.0 through the gateway, validated by MobilityData's rules (gbfs-validator, --fail-on-error):
for the demo fleet, and again with one bike reserved, one in maintenance and one rented.

Black box: only HTTP through GATEWAY_URL, the SMTP sink's Maildir (MAIL_DIR) for the rider's confirmation
link, and the gbfs-validator CLI in a subprocess. Status feeds may be served from a cache for up to their
`ttl` (≤ 60 s), so checks on changed data poll until the feed shows the change, within ttl plus a margin.
"""

import email
import email.policy
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests

GATEWAY_URL = (os.environ.get("GATEWAY_URL") or "").rstrip("/")
TIMEOUT = 10
STATUS_STALENESS_LIMIT = 60  # the feed's promise: never more than a minute stale

pytestmark = pytest.mark.skipif(not GATEWAY_URL, reason="needs a running stack: GATEWAY_URL is unset")


def discovery_url() -> str:
    # GBFS_E2E_FEED_URL lets the suite validate a feed served elsewhere (e.g. a rentals process under test).
    return os.environ.get("GBFS_E2E_FEED_URL") or f"{GATEWAY_URL}/gbfs/v3/gbfs.json"


def validator_command() -> list[str]:
    beside_python = Path(sys.executable).parent / "gbfs-validator"
    found = os.environ.get("GBFS_VALIDATOR") or (
        str(beside_python) if beside_python.exists() else shutil.which("gbfs-validator")
    )
    if not found:
        pytest.fail("gbfs-validator is not installed (pip install gbfs-validator==0.1.0 into the tools venv)")
    return [found]


def validate(tmp_path: Path, name: str) -> dict:
    """Run gbfs-validator on the live feed; fail with its error summary unless it passes."""
    report_path = tmp_path / f"{name}-report.json"
    command = [
        *validator_command(),
        "--url",
        discovery_url(),
        "--docked",
        "--free-floating",
        "--fail-on-error",
        "--print-report",
        "no",
        "--save-report",
        str(report_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    failing = [
        {"file": entry.get("file"), "errors": _errors_of(entry)}
        for entry in report.get("files", [])
        if entry.get("hasErrors")
    ]
    details = f"{result.stderr[-2000:]} {json.dumps(failing)[:4000]}"
    assert result.returncode == 0, f"gbfs-validator failed: {details}"
    summary = report["summary"]
    assert summary["hasErrors"] is False
    assert summary["version"]["validated"] == "3.0"
    present = {entry["file"] for entry in report["files"] if entry.get("exists")}
    expected = {
        "gbfs.json",
        "gbfs_versions.json",
        "system_information.json",
        "vehicle_types.json",
        "station_information.json",
        "station_status.json",
        "vehicle_status.json",
        "system_pricing_plans.json",
    }
    assert expected <= present, f"feeds missing from the report: {expected - present}"
    return report


def _errors_of(entry: dict):
    if entry.get("errors"):
        return entry["errors"]
    return [lang.get("errors") for lang in entry.get("languages", []) if lang.get("errors")]


def feed(name: str, **headers) -> requests.Response:
    urls = {item["name"]: item["url"] for item in get_json(discovery_url())["data"]["feeds"]}
    return requests.get(urls[name], headers=headers, timeout=TIMEOUT)


def get_json(url: str) -> dict:
    response = requests.get(url, timeout=TIMEOUT)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    return response.json()


def vehicles() -> list[dict]:
    response = feed("vehicle_status")
    assert response.status_code == 200
    return response.json()["data"]["vehicles"]


def wait_for(description: str, predicate, *, limit: float = STATUS_STALENESS_LIMIT + 10):
    """Poll the (possibly cached) status feed until `predicate(vehicles)` holds."""
    deadline = time.monotonic() + limit
    while True:
        current = vehicles()
        if predicate(current):
            return current
        if time.monotonic() > deadline:
            pytest.fail(f"after {limit:.0f} s the feed still does not show: {description}")
        time.sleep(1)


# ----- accounts (through the gateway) -----


def _token(email_address: str, password: str) -> requests.Response:
    return requests.post(
        f"{GATEWAY_URL}/api/auth/token", json={"email": email_address, "password": password}, timeout=TIMEOUT
    )


def _confirmation_token(email_address: str, *, limit: float = 30) -> str:
    mail_dir = os.environ.get("MAIL_DIR")
    if not mail_dir:
        pytest.skip("MAIL_DIR is unset: cannot read the rider's confirmation mail")
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for path in sorted(Path(mail_dir).glob("*/*")):
            if not path.is_file():
                continue
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if email_address not in str(message.get("To", "")):
                continue
            body = message.get_body(preferencelist=("plain", "html"))
            text = body.get_content() if body is not None else ""
            match = re.search(r"verify\?token=([^\s\"'<>&]+)", text)
            if match:
                return unquote(match.group(1))
        time.sleep(0.5)
    pytest.fail(f"no confirmation mail for {email_address} in {mail_dir} within {limit:.0f} s")


def rider_session() -> requests.Session:
    email_address = f"gbfs-{uuid.uuid4().hex[:12]}@example.com"
    password = f"Gbfs-{uuid.uuid4().hex}"
    response = requests.post(
        f"{GATEWAY_URL}/api/auth/register",
        json={"name": "GBFS Rider", "email": email_address, "password": password},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    token = _token(email_address, password)
    if token.status_code != 200:
        confirmation = _confirmation_token(email_address)
        verify_url = f"{GATEWAY_URL}/api/auth/verify"
        verified = requests.get(verify_url, params={"token": confirmation}, timeout=TIMEOUT)
        assert verified.status_code == 200, verified.text
        token = _token(email_address, password)
    assert token.status_code == 200, token.text
    return _session(token.json()["access"])


def admin_session() -> requests.Session:
    email_address, password = os.environ.get("ADMIN_EMAIL"), os.environ.get("ADMIN_PASSWORD")
    if not (email_address and password):
        pytest.skip("ADMIN_EMAIL/ADMIN_PASSWORD unset: cannot put a bike into maintenance")
    token = _token(email_address, password)
    assert token.status_code == 200, token.text
    return _session(token.json()["access"])


def _session(access: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {access}"
    return session


def available_bikes(session: requests.Session) -> list[dict]:
    response = session.get(f"{GATEWAY_URL}/api/bikes", params={"page_size": 100}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return [bike for bike in response.json()["results"] if bike["station_id"]]


# ----- tests -----


def test_demo_fleet_feed_validates(tmp_path):
    validate(tmp_path, "demo")
    assert vehicles(), "the demo fleet publishes its parked bikes"
    stations = feed("station_information").json()["data"]["stations"]
    assert len(stations) >= 3


def test_feeds_are_public_cacheable_and_revalidate_with_304():
    response = feed("station_information")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "3.0"
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert int(response.headers["Cache-Control"].split("=")[1]) <= body["ttl"]
    # A 200 on revalidation is only right when the body really changed (other activity on the stack).
    revalidated = []
    for _ in range(5):
        etag = feed("station_information").headers["ETag"]
        again = feed("station_information", **{"If-None-Match": etag})
        assert again.status_code == 304 or again.headers["ETag"] != etag
        if again.status_code == 304:
            assert again.content == b""
        revalidated.append(again.status_code)
    assert 304 in revalidated
    for name in ("station_status", "vehicle_status"):
        assert feed(name).json()["ttl"] <= STATUS_STALENESS_LIMIT


def test_unknown_feed_is_a_problem_404():
    response = requests.get(f"{GATEWAY_URL}/gbfs/v3/no_such_feed.json", timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")


def _at(current: list[dict], spot: tuple[float, float]) -> list[dict]:
    return [v for v in current if "lat" in v and (round(v["lat"], 6), round(v["lon"], 6)) == spot]


def test_reserved_disabled_and_rented_bikes_and_vehicle_id_rotation(tmp_path):
    """Each test bike is moved to a spot of its own, so it can be told apart in the feed without any id
    (other activity on the stack does not disturb the checks)."""
    admin = admin_session()
    holder, renter = rider_session(), rider_session()
    bikes = available_bikes(renter)
    assert len(bikes) >= 3, "needs three parked, available bikes"
    reserved_bike, maintenance_bike, rented_bike = bikes[:3]
    origin = random.Random(uuid.uuid4().int)
    base = (round(origin.uniform(-60, -40), 3), round(origin.uniform(-170, -150), 3))
    spots = {bike["id"]: (base[0] + index / 1000, base[1]) for index, bike in enumerate(bikes[:3])}
    spots = {key: (round(lat, 6), round(lon, 6)) for key, (lat, lon) in spots.items()}

    def bike_url(bike):
        return f"{GATEWAY_URL}/api/bikes/{bike['id']}"

    rental = None
    try:
        for bike in bikes[:3]:
            lat, lon = spots[bike["id"]]
            moved = admin.patch(bike_url(bike), json={"lat": lat, "lon": lon}, timeout=TIMEOUT)
            assert moved.status_code == 200, moved.text
        baseline = wait_for(
            "the three test bikes at their spots",
            lambda current: all(len(_at(current, spot)) == 1 for spot in spots.values()),
        )
        old_ids = {key: _at(baseline, spot)[0]["vehicle_id"] for key, spot in spots.items()}

        # A rider's reservation (the reservations API, as a rider app uses it) makes the bike is_reserved.
        reservation = holder.post(f"{bike_url(reserved_bike)}/reservation", timeout=TIMEOUT)
        assert reservation.status_code == 201, reservation.text
        maintenance = admin.patch(bike_url(maintenance_bike), json={"status": "maintenance"}, timeout=TIMEOUT)
        assert maintenance.status_code == 200, maintenance.text
        rental = renter.post(
            f"{GATEWAY_URL}/api/rentals",
            json={"bike_id": rented_bike["id"]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=TIMEOUT,
        )
        assert rental.status_code == 201, rental.text

        def changed(current):
            held, broken = (
                _at(current, spots[reserved_bike["id"]]),
                _at(current, spots[maintenance_bike["id"]]),
            )
            return (
                len(held) == 1
                and held[0]["is_reserved"] is True
                and len(broken) == 1
                and broken[0]["is_disabled"]
                and not _at(current, spots[rented_bike["id"]])
            )

        during = wait_for("reserved, disabled and rented (absent) test bikes", changed)
        validate(tmp_path, "mixed")
        # Reserving and maintenance are not trips: those bikes keep their vehicle_id.
        assert _at(during, spots[reserved_bike["id"]])[0]["vehicle_id"] == old_ids[reserved_bike["id"]]
        assert _at(during, spots[maintenance_bike["id"]])[0]["vehicle_id"] == old_ids[maintenance_bike["id"]]
        published = json.dumps(during)
        for bike in bikes[:3]:
            assert bike["id"] not in published and bike["id"].replace("-", "") not in published

        # Ending the trip without a station leaves the bike where it is: at its own spot, free-floating.
        finished = renter.post(
            f"{GATEWAY_URL}/api/rentals/{rental.json()['id']}/finish",
            json={},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=TIMEOUT,
        )
        assert finished.status_code == 200, finished.text
        rental = None
        after = wait_for(
            "the returned bike back, under a new vehicle_id",
            lambda current: (
                len(_at(current, spots[rented_bike["id"]])) == 1
                and _at(current, spots[rented_bike["id"]])[0]["vehicle_id"] != old_ids[rented_bike["id"]]
            ),
        )
        assert old_ids[rented_bike["id"]] not in {v["vehicle_id"] for v in after}
        validate(tmp_path, "after-trip")
    finally:
        if rental is not None and rental.status_code == 201:
            renter.post(
                f"{GATEWAY_URL}/api/rentals/{rental.json()['id']}/finish",
                json={},
                headers={"Idempotency-Key": str(uuid.uuid4())},
                timeout=TIMEOUT,
            )
        holder.delete(f"{bike_url(reserved_bike)}/reservation", timeout=TIMEOUT)
        for bike in bikes[:3]:
            admin.patch(
                bike_url(bike),
                json={
                    "status": "available",
                    "station_id": bike["station_id"],
                    "lat": bike["lat"],
                    "lon": bike["lon"],
                },
                timeout=TIMEOUT,
            )
