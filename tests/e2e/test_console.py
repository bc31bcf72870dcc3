"""The operator console (/console/, issue 26): what the gateway serves and its headers, the console APIs
refusing riders, and the pages in a real browser (Playwright driving the system Chromium: Debian's `chromium`
package, never a browser download). Screenshots of every page go to CONSOLE_ARTIFACTS_DIR, by default
`$VELO_RUN_DIR/artifacts/console/` (`.run/<stack>/artifacts/console/`).

Where the browser is missing (no `playwright` package or no Chromium) the browser tests skip and say why;
the header and API tests still run.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from e2e_support import PROBLEM_JSON, Account, wait_until

CHROMIUM = os.environ.get("CONSOLE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SEEDED_STATIONS = ("Alexanderplatz", "Brandenburger Tor", "Potsdamer Platz")
GREEN, RED = "#1a9850", "#d7191c"  # console/public/pages/map.js: available, broken


# ----------------------------------------------------------------------------- served files and headers


def test_console_is_served_with_a_strict_content_security_policy(gateway_url: str) -> None:
    page = requests.get(gateway_url + "/console/", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), page.text[:200]
    scripts = re.findall(r"<script\b[^>]*>", page.text)
    assert scripts and all(" src=" in tag for tag in scripts), scripts  # no inline script
    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in page.headers["Content-Security-Policy"].split(";")
        if directive.strip()
    }
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"], csp
    assert csp["style-src"] == ["'self'"] and csp["connect-src"] == ["'self'"], csp
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"], csp
    assert not any("unsafe" in source for sources in csp.values() for source in sources), csp

    tile_url = requests.get(gateway_url + "/console/config.json", timeout=30).json()["tile_url"]
    if tile_url:  # the configured tile server's origin and data: (Leaflet's blank tile), nothing else
        parts = urlsplit(tile_url.replace("{s}", "*"))
        assert csp["img-src"] == ["'self'", "data:", f"{parts.scheme}://{parts.netloc}"], csp
    else:
        assert csp["img-src"] == ["'self'"], csp

    for path, kind in (
        ("/console/app.js", "text/javascript"),
        ("/console/vendor/leaflet.js", "text/javascript"),
        ("/console/vendor/chart.umd.min.js", "text/javascript"),
        ("/console/vendor/leaflet.css", "text/css"),
    ):
        response = requests.get(gateway_url + path, timeout=30)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(kind), path
        assert "Content-Security-Policy" in response.headers, path
    assert (
        requests.get(gateway_url + "/console", allow_redirects=False, timeout=30)
        .headers["Location"]
        .endswith("/console/")
    )
    # The API keeps its own headers: no console policy on JSON answers.
    assert "Content-Security-Policy" not in requests.get(gateway_url + "/api/healthz", timeout=30).headers


@pytest.fixture(scope="module")
def console_rider(register_and_confirm) -> Account:
    return register_and_confirm("console-rider")


CONSOLE_APIS = [
    ("GET", "/api/stats/today", None),
    ("GET", "/api/auth/users?email=a", None),
    ("PATCH", "/api/auth/users/{id}", {"is_active": False}),
    ("GET", "/api/wallets", None),
    ("GET", "/api/wallets/{id}/transactions", None),
    ("GET", "/api/problems?status=open", None),
    ("PATCH", "/api/problems/{id}", {"status": "resolved"}),
    ("GET", "/api/alerts", None),
    ("POST", "/api/alerts", {"alert_type": "OTHER", "summary": [{"text": "x", "language": "en"}]}),
    ("GET", "/api/bikes/{id}/condition", None),
    ("POST", "/api/bikes/{id}/condition", {"condition": "broken", "reason": "x"}),
    ("PATCH", "/api/bikes/{id}", {"model": "x"}),
    ("PATCH", "/api/stations/{id}", {"is_active": False}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), CONSOLE_APIS, ids=[f"{m} {p}" for m, p, _ in CONSOLE_APIS]
)
def test_a_riders_token_gets_403_on_every_console_api(
    console_rider: Account, method: str, path: str, body
) -> None:
    response = console_rider.api().request(method, path.format(id=uuid.uuid4()), json=body)
    assert response.status_code == 403, f"{method} {path}: {response.status_code} {response.text[:200]}"
    assert response.headers["Content-Type"].startswith(PROBLEM_JSON)


# ----------------------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def browser() -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (tools/requirements.txt): browser tests skipped")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium): browser tests skipped")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    configured = os.environ.get("CONSOLE_ARTIFACTS_DIR")
    run_dir = os.environ.get("VELO_RUN_DIR")
    if configured:
        path = Path(configured)
    elif run_dir:
        path = Path(run_dir) / "artifacts" / "console"
    else:
        path = Path(tempfile.mkdtemp(prefix="velo-console-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class Console:
    """One browser tab on the console, collecting what the page logged as errors."""

    def __init__(self, browser, gateway_url: str, artifacts: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.url = gateway_url + "/console/"
        self.artifacts = artifacts
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def log_in(self, email: str, password: str) -> None:
        self.page.goto(self.url)
        self.page.fill("#login-form input[name=email]", email)
        self.page.fill("#login-form input[name=password]", password)
        self.page.click("#login-form button[type=submit]")

    def open(self, name: str) -> None:
        self.page.click(f"#nav a[data-page={name}]")
        self.page.wait_for_selector(f"main.page-{name}")

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=True)

    def script_errors(self) -> list[str]:
        # Tiles from an unreachable tile server fail to load (by design); anything else is a fault,
        # a Content-Security-Policy violation above all.
        return [error for error in self.errors if "Failed to load resource" not in error]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def console(browser, gateway_url: str, artifacts: Path) -> Iterator[Console]:
    tab = Console(browser, gateway_url, artifacts)
    yield tab
    tab.close()


def _bike_fill(console: Console, number: str) -> str | None:
    return console.page.get_attribute(f'path[data-bike="{number}"]', "fill")


def test_operator_sees_the_fleet_and_takes_a_bike_out_of_service(
    console: Console, admin: Account, fleet, console_rider: Account
) -> None:
    bike = fleet.create_bike()
    rider = console_rider
    assert any(item["id"] == bike["id"] for item in _riders_bikes(rider, bike["station_id"]))

    console.log_in(admin.email, admin.password)
    page = console.page
    page.wait_for_selector("#map-counts[data-live-rentals]")
    for name in SEEDED_STATIONS:
        assert page.locator(f'path[data-station="{name}"]').count() == 1, name
    assert _bike_fill(console, bike["number"]) == GREEN
    # Tokens stay in the page's memory: nothing in web storage, no cookie.
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert console.context.cookies() == []
    console.screenshot("map")

    page.locator(f'path[data-bike="{bike["number"]}"]').dispatch_event("click")
    page.wait_for_selector(f"#details h2:has-text('{bike['number']}')")
    page.select_option("#condition-form select[name=condition]", "broken")
    page.fill("#condition-form input[name=reason]", "e2e: front wheel bent")
    page.click("#condition-form button[type=submit]")
    page.wait_for_selector("#bike-condition:has-text('broken')")
    assert _bike_fill(console, bike["number"]) == RED
    assert page.get_attribute(f'path[data-bike="{bike["number"]}"]', "data-colour") == "broken"
    page.wait_for_selector(".history li:has-text('ok → broken')")
    console.screenshot("map-bike-broken")

    # Riders no longer see it (the bike list's freshness rule: within a second for everyone).
    wait_until(
        lambda: not any(item["id"] == bike["id"] for item in _riders_bikes(rider, bike["station_id"])),
        timeout=10,
    )
    assert console.script_errors() == []


def _riders_bikes(rider: Account, station_id: str) -> list[dict]:
    response = rider.api().get(f"/api/bikes?station_id={station_id}&page_size=100")
    assert response.status_code == 200, response.text[:200]
    return response.json()["results"]


def _tile(console: Console, tile_id: str) -> int:
    return int(console.page.text_content(f"#{tile_id}") or "0")


def test_todays_charts_update_after_a_rental(
    console: Console, admin: Account, fleet, console_rider: Account
) -> None:
    rider = console_rider
    console.log_in(admin.email, admin.password)
    console.open("today")
    page = console.page
    page.wait_for_selector("main[data-generated-at]")
    started, finished = _tile(console, "t-rides-started"), _tile(console, "t-rides-finished")
    chart_total = "id => Chart.getChart(id).data.datasets.map(d => d.data.reduce((a, b) => a + b, 0))"
    assert page.evaluate(chart_total, "chart-rides") == [started, finished]

    bike = fleet.create_bike()
    api = rider.api()
    rental = api.post("/api/rentals", json={"bike_id": bike["id"]})
    assert rental.status_code == 201, rental.text[:300]
    time.sleep(1)
    response = api.post(f"/api/rentals/{rental.json()['id']}/finish", json={"station_id": bike["station_id"]})
    assert response.status_code == 200, response.text[:300]

    page.click("#today-refresh")
    wait_until(lambda: _tile(console, "t-rides-finished") > finished, timeout=15)
    now_started, now_finished = _tile(console, "t-rides-started"), _tile(console, "t-rides-finished")
    assert now_started > started
    assert page.evaluate(chart_total, "chart-rides") == [now_started, now_finished]
    console.screenshot("today")
    assert console.script_errors() == []


def test_riders_problems_and_alerts_pages(console: Console, admin: Account, register_and_confirm) -> None:
    rider = register_and_confirm("console-disabled")  # its own: it is disabled and enabled again here
    console.log_in(admin.email, admin.password)
    console.open("riders")
    page = console.page
    page.fill("main input[name=email]", rider.email)
    page.click("main form button[type=submit]")
    row = page.locator(f'#rider-results tr[data-email="{rider.email}"]')
    row.locator("button:has-text('Wallet')").click()
    page.wait_for_selector("#wallet-balance")
    assert "null" not in (page.text_content("#wallet") or "")
    console.screenshot("riders")
    row.locator("button:has-text('Disable')").click()
    page.wait_for_selector(
        f'#rider-results tr[data-email="{rider.email}"] td.account-state:has-text("disabled")'
    )
    page.locator(f'#rider-results tr[data-email="{rider.email}"] button:has-text("Enable")').click()
    page.wait_for_selector(
        f'#rider-results tr[data-email="{rider.email}"] td.account-state:has-text("active")'
    )

    console.open("problems")
    page.wait_for_selector("#problem-rows[data-loaded=open]", state="attached")
    console.screenshot("problems")

    console.open("alerts")
    summary = f"e2e console alert {uuid.uuid4().hex[:6]}"
    page.fill("main input[name=summary]", summary)
    page.click("main form button[type=submit]")
    row = page.locator(f"#alert-rows tr:has-text('{summary}')")
    row.wait_for()
    console.screenshot("alerts")
    row.locator("button:has-text('Delete')").click()
    page.wait_for_selector(f"#alert-rows tr:has-text('{summary}')", state="detached")
    assert console.script_errors() == []


def test_a_rider_cannot_log_in_to_the_console(console: Console, console_rider: Account) -> None:
    console.log_in(console_rider.email, console_rider.password)
    console.page.wait_for_selector("#login-error:has-text('not an operator')")
    assert console.page.is_hidden("#shell")
    console.screenshot("login-refused")


def test_the_console_renews_its_access_token_after_a_401(console: Console, admin: Account) -> None:
    """An access token that expired (simulated: the first stats request is answered 401) is renewed with the
    refresh token and the request repeated; the operator stays logged in."""
    requested: list[str] = []
    console.page.on("request", lambda request: requested.append(urlsplit(request.url).path))
    answered_401 = []

    def expire_once(route) -> None:
        if answered_401:
            route.continue_()
            return
        answered_401.append(route.request.url)
        route.fulfill(
            status=401,
            content_type="application/problem+json",
            body='{"type": "https://velo.example/problems/token-invalid", "title": "Unauthorized",'
            ' "status": 401, "detail": "Token expired."}',
        )

    console.page.route("**/api/stats/today", expire_once)
    console.log_in(admin.email, admin.password)
    console.open("today")
    console.page.wait_for_selector("main[data-generated-at]")
    assert answered_401 and "/api/auth/token/refresh" in requested
    assert console.page.is_visible("#shell")
    assert console.script_errors() == []
