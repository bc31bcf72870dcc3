"""Fixtures of the black-box end-to-end suite. Configuration comes only from the environment:

GATEWAY_URL (required), MAIL_DIR (the SMTP sink's Maildir; riders need it to confirm their address),
PAYMENTS_WEBHOOK_SECRET (top-ups), ADMIN_EMAIL/ADMIN_PASSWORD (operator tests), VELO_STACK_CTL + VELO_STACK
(fault tests). `source .run/<stack>/env.sh` exports all of them.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from e2e_support import (
    Account,
    Api,
    Maildir,
    confirmation_path,
    env,
    jwt_claims,
    wait_until,
    webhook_post,
)

RUN_ID = uuid.uuid4().hex[:8]
_MAILDIRS: dict[str, Maildir] = {}


def _maildir(path: str) -> Maildir:
    if path not in _MAILDIRS:
        _MAILDIRS[path] = Maildir(path)
    return _MAILDIRS[path]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: stops/kills stack processes; runs last")
    config.addinivalue_line("markers", "admin: needs ADMIN_EMAIL/ADMIN_PASSWORD")
    config.addinivalue_line("markers", "late: runs at the very end (needs session-start tokens expired)")


MODULE_ORDER = ["test_journeys", "test_races", "test_bad_input", "test_contract_fuzz"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Journeys first (they show the basics work), then races, bad input and fuzzing; fault tests disturb
    # the stack, so they come after those; `late` tests (harmless) need the session-start token expired.
    def key(item: pytest.Item) -> tuple[int, int]:
        if item.get_closest_marker("late"):
            return (3, 0)
        if item.get_closest_marker("faults"):
            return (2, 0)
        module = item.module.__name__ if item.module else ""
        return (1, MODULE_ORDER.index(module) if module in MODULE_ORDER else len(MODULE_ORDER))

    items.sort(key=key)


# --------------------------------------------------------------------------------------------- config


@pytest.fixture(scope="session")
def gateway_url() -> str:
    url = env("GATEWAY_URL")
    if not url:
        pytest.skip("GATEWAY_URL is not set (source .run/<stack>/env.sh)")
    try:
        requests.get(url.rstrip("/") + "/healthz", timeout=5)
    except requests.RequestException as exc:
        pytest.fail(f"gateway {url} is not reachable: {exc}")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def mailbox() -> Maildir:
    path = env("MAIL_DIR")
    if not path:
        pytest.skip("MAIL_DIR is not set: riders cannot read their confirmation mail")
    return _maildir(path)


@pytest.fixture(scope="session")
def webhook_secret() -> str:
    secret = env("PAYMENTS_WEBHOOK_SECRET")
    if not secret:
        pytest.skip("PAYMENTS_WEBHOOK_SECRET is not set: cannot sign payment webhooks")
    return secret


@pytest.fixture
def api(gateway_url: str) -> Iterator[Api]:
    client = Api(gateway_url)
    yield client
    client.close()


@pytest.fixture(scope="session", name="wait_until")
def wait_until_fixture() -> Callable:
    """wait_until(pred, timeout): poll until pred() is truthy, return its value (or fail after timeout s)."""
    return wait_until


# --------------------------------------------------------------------------------------------- accounts


def _register_and_confirm(base_url: str, mailbox: Maildir, label: str) -> Account:
    address = f"e2e-{RUN_ID}-{label}-{uuid.uuid4().hex[:6]}@e2e.velo.example"
    account = Account(base_url, address, "Pw-" + secrets.token_urlsafe(12), f"E2E {label}")
    response = requests.post(
        base_url + "/api/auth/register",
        json={"name": account.name, "email": address, "password": account.password},
        timeout=30,
    )
    assert response.status_code == 201, f"register {address}: {response.status_code} {response.text[:300]}"
    registered = response.json()
    assert registered["email"] == address and registered["email_verified"] is False, registered
    _, body = mailbox.wait_for(address, lambda subject, body: "/api/auth/verify?token=" in body, timeout=30)
    response = requests.get(base_url + confirmation_path(body), timeout=30)
    assert response.status_code == 200, f"confirm {address}: {response.status_code} {response.text[:300]}"
    account.log_in()
    assert account.id == registered["id"]
    return account


@pytest.fixture(scope="session")
def register_and_confirm(gateway_url: str, mailbox: Maildir) -> Callable[..., Account]:
    """register → confirmation mail from the Maildir → follow the link → log in. Returns an Account."""

    def make(label: str = "rider") -> Account:
        return _register_and_confirm(gateway_url, mailbox, label)

    return make


@pytest.fixture
def rider(register_and_confirm) -> Account:
    return register_and_confirm("rider")


@pytest.fixture(scope="session")
def many_riders(gateway_url: str, mailbox: Maildir) -> Callable[[int], list[Account]]:
    """Riders created once per session in parallel threads and handed out again to later tests."""
    pool: list[Account] = []
    lock = threading.Lock()

    def get(count: int) -> list[Account]:
        with lock:
            missing = count - len(pool)
            if missing > 0:
                with ThreadPoolExecutor(max_workers=12) as executor:
                    futures = [
                        executor.submit(_register_and_confirm, gateway_url, mailbox, f"crowd{len(pool) + i}")
                        for i in range(missing)
                    ]
                    pool.extend(future.result() for future in futures)
            return pool[:count]

    return get


@pytest.fixture(scope="session", autouse=True)
def early_token() -> tuple[str, int] | None:
    """An access token issued when the session starts; `late` tests use it after it expired."""
    base_url, mail_dir = env("GATEWAY_URL"), env("MAIL_DIR")
    if not base_url or not mail_dir:
        return None
    try:
        account = _register_and_confirm(base_url.rstrip("/"), _maildir(mail_dir), "early")
    except (AssertionError, requests.RequestException):
        return None  # the journeys report what is broken; only the expiry test skips
    return account.access, int(jwt_claims(account.access)["exp"])


@pytest.fixture(scope="session")
def admin(gateway_url: str) -> Account:
    address, password = env("ADMIN_EMAIL"), env("ADMIN_PASSWORD")
    if not address or not password:
        pytest.skip("ADMIN_EMAIL/ADMIN_PASSWORD are not set")
    account = Account(gateway_url, address, password, "admin")
    account.log_in()
    assert "admin" in jwt_claims(account.access).get("roles", []), "the admin account has no admin role"
    return account


@pytest.fixture(scope="session")
def top_up(gateway_url: str, webhook_secret: str) -> Callable[..., dict]:
    """top_up(user_id, amount): credit a wallet through the signed payment webhook; returns the body."""

    def credit(user_id: str, amount: int, currency: str = "EUR", transaction_id: str | None = None) -> dict:
        response = webhook_post(
            gateway_url, webhook_secret, user_id=user_id, amount=amount, currency=currency,
            transaction_id=transaction_id,
        )  # fmt: skip
        assert response.status_code == 200, f"top-up: {response.status_code} {response.text[:300]}"
        return response.json()

    return credit


# --------------------------------------------------------------------------------------------- fleet


class Fleet:
    """Finds available bikes and a station to return them to; with an admin it creates its own."""

    def __init__(self, base_url: str, admin: Account | None, reader: Account) -> None:
        self.base_url = base_url
        self.admin = admin
        self.reader = reader
        self._station_id: str | None = None
        self._lock = threading.Lock()
        self._created = 0

    def _list_bikes(self) -> list[dict]:
        api = self.reader.api()
        bikes: list[dict] = []
        url = "/api/bikes?status=available&page_size=100"
        while url and len(bikes) < 1000:
            response = api.get(url)
            assert response.status_code == 200, response.text[:300]
            page = response.json()
            bikes.extend(page["results"])
            url = page.get("next")
        return bikes

    def station_id(self) -> str:
        with self._lock:
            if self._station_id:
                return self._station_id
            if self.admin:
                response = self.admin.api().post(
                    "/api/stations",
                    json={
                        "name": f"E2E station {uuid.uuid4().hex[:8]}",
                        "lat": 52.52,
                        "lon": 13.405,
                        "capacity": 1000,
                    },
                )
                assert response.status_code == 201, (
                    f"create station: {response.status_code} {response.text[:300]}"
                )
                self._station_id = response.json()["id"]
            else:
                response = self.reader.api().get("/api/stations?page_size=100")
                assert response.status_code == 200, response.text[:300]
                stations = [s for s in response.json()["results"] if s.get("is_active", True)]
                assert stations, "no station to return bikes to"
                self._station_id = max(stations, key=lambda s: s.get("free_docks", 0))["id"]
            return self._station_id

    def create_bike(self, station_id: str | None = None) -> dict:
        assert self.admin, "creating bikes needs the admin"
        with self._lock:
            self._created += 1
            number = f"E2E-{RUN_ID}-{self._created}-{uuid.uuid4().hex[:4]}"
        response = self.admin.api().post(
            "/api/bikes",
            json={"number": number, "model": "e2e-test", "station_id": station_id or self.station_id()},
        )
        assert response.status_code == 201, f"create bike: {response.status_code} {response.text[:300]}"
        return response.json()

    def bikes(self, count: int, fresh: bool = False) -> list[dict]:
        """`count` bikes that are available now; `fresh` ones are created for this test (admin needed)."""
        if fresh or self.admin:
            station = self.station_id()
            with ThreadPoolExecutor(max_workers=8) as executor:
                return list(executor.map(lambda _: self.create_bike(station), range(count)))
        bikes = self._list_bikes()
        if len(bikes) < count:
            pytest.skip(f"needs {count} available bikes, found {len(bikes)} and no admin to create more")
        return bikes[:count]


@pytest.fixture(scope="session")
def fleet(gateway_url: str, register_and_confirm) -> Fleet:
    address, password = env("ADMIN_EMAIL"), env("ADMIN_PASSWORD")
    admin_account = None
    if address and password:
        admin_account = Account(gateway_url, address, password, "admin")
        admin_account.log_in()
    return Fleet(gateway_url, admin_account, register_and_confirm("fleetreader"))


# --------------------------------------------------------------------------------------------- faults


@pytest.fixture(scope="session")
def stack():
    """stack(action, process[, signal]): start/stop/restart a stack process (fault tests)."""
    ctl, name = env("VELO_STACK_CTL"), env("VELO_STACK")
    if not ctl or not name:
        pytest.skip("VELO_STACK_CTL/VELO_STACK are not set: fault tests cannot stop stack processes")

    def control(action: str, process: str, signal: str | None = None) -> None:
        environment = dict(os.environ)
        if signal:
            environment["SIGNAL"] = signal
        started = time.monotonic()
        result = subprocess.run(
            [*shlex.split(ctl), action, process, name],
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        print(f"[fault] {action} {process}{' ' + signal if signal else ''}: exit {result.returncode} "
              f"in {time.monotonic() - started:.1f}s")  # fmt: skip
        assert result.returncode == 0, (
            f"{action} {process} failed: {result.stdout[-2000:]} {result.stderr[-2000:]}"
        )

    return control
