"""Black-box helpers for the end-to-end suite: HTTP client, Maildir reader, webhook signing, token forging.

Nothing here imports from services/: the suite sees Velo only as a client does (the gateway over HTTP,
the SMTP sink's Maildir, presigned S3 URLs).
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

PROBLEM_JSON = "application/problem+json"
REQUEST_TIMEOUT = 30


def env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def wait_until(
    predicate: Callable[[], Any], timeout: float, interval: float = 0.25, message: str = ""
) -> Any:
    """Poll `predicate` until it returns something truthy; return that value or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {message or predicate!r} (last={last!r})"
            )
        time.sleep(interval)


def assert_problem(
    response: requests.Response, status: int | tuple[int, ...], slug: str | None = None
) -> dict:
    """The response is the given 4xx/5xx as RFC 9457 problem+json (our shape); return the body."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (
        f"{response.request.method} {response.request.url}: expected {statuses}, "
        f"got {response.status_code}: {response.text[:500]}"
    )
    content_type = response.headers.get("Content-Type", "")
    assert content_type.split(";")[0].strip() == PROBLEM_JSON, (
        f"{response.request.method} {response.request.url}: {response.status_code} with content type "
        f"{content_type!r}, not {PROBLEM_JSON}: {response.text[:300]}"
    )
    body = response.json()
    for key in ("type", "title", "status", "detail", "instance", "request_id"):
        assert key in body, f"problem body lacks {key!r}: {body}"
    assert body["status"] == response.status_code, body
    header_id = response.headers.get("X-Request-ID")
    assert header_id and body["request_id"] == header_id, (
        f"request_id {body['request_id']!r} differs from the X-Request-ID header {header_id!r}"
    )
    if slug is not None:
        assert body["type"].rstrip("/").endswith("/" + slug), (
            f"expected problem type {slug!r}, got {body['type']!r}"
        )
    return body


# --------------------------------------------------------------------------------------------- HTTP client


class Api:
    """A thin requests wrapper rooted at the gateway URL; one per thread (a Session is not thread-safe)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.token = token

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def request(
        self, method: str, path: str, *, token: str | None = None, auth: bool = True, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        bearer = token if token is not None else self.token
        if auth and bearer and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {bearer}"
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, self.url(path), headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()


def login(base_url: str, email_address: str, password: str, *, patience: float = 150.0) -> requests.Response:
    """POST /api/auth/token, waiting out the gateway's per-address rate limit (429) instead of failing.

    The gateway allows 60 logins a minute with a burst of 30 per client address and every test client is
    one address, so creating many riders has to queue here.
    """
    deadline = time.monotonic() + patience
    delay = 1.0
    while True:
        response = requests.post(
            base_url.rstrip("/") + "/api/auth/token",
            json={"email": email_address, "password": password},
            timeout=REQUEST_TIMEOUT,
        )
        if response.status_code != 429 or time.monotonic() >= deadline:
            return response
        retry_after = response.headers.get("Retry-After")
        wait = float(retry_after) if retry_after and retry_after.isdigit() else delay
        time.sleep(min(wait, 10.0))
        delay = min(delay * 1.5, 5.0)


def refresh(base_url: str, refresh_token: str, *, patience: float = 120.0) -> requests.Response:
    deadline = time.monotonic() + patience
    while True:
        response = requests.post(
            base_url.rstrip("/") + "/api/auth/token/refresh",
            json={"refresh": refresh_token},
            timeout=REQUEST_TIMEOUT,
        )
        if response.status_code != 429 or time.monotonic() >= deadline:
            return response
        time.sleep(1.5)


@dataclass
class Account:
    """A logged-in user. `token` refreshes the access token shortly before it expires."""

    base_url: str
    email: str
    password: str
    name: str
    id: str = ""
    access: str = ""
    refresh_token: str = ""
    expires_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def apply_pair(self, pair: dict) -> None:
        self.access = pair["access"]
        self.refresh_token = pair["refresh"]
        self.expires_at = time.monotonic() + int(pair.get("expires_in") or 300)
        self.id = jwt_claims(self.access)["sub"]

    def log_in(self) -> None:
        response = login(self.base_url, self.email, self.password)
        assert response.status_code == 200, (
            f"login of {self.email}: {response.status_code} {response.text[:300]}"
        )
        self.apply_pair(response.json())

    @property
    def token(self) -> str:
        with self._lock:
            if time.monotonic() > self.expires_at - 45:
                response = refresh(self.base_url, self.refresh_token)
                if response.status_code == 200:
                    self.apply_pair(response.json())
                else:
                    self.log_in()
            return self.access

    def api(self) -> Api:
        """A new client (own session) authenticated as this account; the token is read per request."""
        return _AccountApi(self.base_url, self)


class _AccountApi(Api):
    def __init__(self, base_url: str, account: Account) -> None:
        super().__init__(base_url)
        self.account = account

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        return super().request(
            method, path, token=token if token is not None else self.account.token, **kwargs
        )


# --------------------------------------------------------------------------------------------- mail


class Maildir:
    """Reads the SMTP sink's Maildir like a mail client. Parsed messages are cached by file name.

    Only messages delivered after `since` (epoch seconds) are read: a long-lived sink holds thousands.
    """

    def __init__(self, path: str, since: float | None = None) -> None:
        self.path = Path(path)
        self.since = time.time() - 120 if since is None else since
        self._cache: dict[str, tuple[str, str, str]] = {}
        self._old: set[str] = set()
        self._lock = threading.Lock()

    def _scan(self) -> list[tuple[str, str, str]]:
        with self._lock:
            for sub in ("new", "cur"):
                folder = self.path / sub
                if not folder.is_dir():
                    continue
                for entry in os.scandir(folder):
                    key = entry.name.split(":")[0]
                    if key in self._cache or key in self._old:
                        continue
                    try:
                        if entry.stat().st_mtime < self.since:
                            self._old.add(key)
                            continue
                    except FileNotFoundError:
                        continue
                    try:
                        raw = Path(entry.path).read_bytes()
                    except FileNotFoundError:  # moved from new/ to cur/ meanwhile
                        continue
                    message = email.message_from_bytes(raw, policy=email.policy.default)
                    body_parts = []
                    for part in message.walk():
                        if part.get_content_maintype() == "text":
                            try:
                                body_parts.append(part.get_content())
                            except (LookupError, UnicodeDecodeError):
                                payload = part.get_payload(decode=True) or b""
                                body_parts.append(payload.decode("utf-8", "replace"))
                    self._cache[key] = (
                        str(message.get("To", "")).lower(),
                        str(message.get("Subject", "")),
                        "\n".join(body_parts),
                    )
            return list(self._cache.values())

    def messages_to(self, address: str) -> list[tuple[str, str]]:
        """(subject, body) of every message addressed to `address`."""
        address = address.lower()
        return [(subject, body) for to, subject, body in self._scan() if address in to]

    def wait_for(
        self, address: str, predicate: Callable[[str, str], bool], timeout: float = 30.0
    ) -> tuple[str, str]:
        def found():
            for subject, body in self.messages_to(address):
                if predicate(subject, body):
                    return subject, body
            return None

        return wait_until(found, timeout, interval=0.3, message=f"a mail to {address}")


VERIFY_LINK = re.compile(r"https?://[^\s<>\"']+/api/auth/verify\?token=[^\s<>\"']+")


RESET_LINK = re.compile(r"https?://[^\s<>\"']+/api/auth/password/reset/confirm\?token=[^\s<>\"']+")


def reset_link(body: str) -> str:
    """The password-reset link of a mail body, as written (PUBLIC_BASE_URL is its host)."""
    match = RESET_LINK.search(body)
    assert match, f"no reset link in mail body: {body[:500]}"
    return match.group(0)


def confirmation_path(body: str) -> str:
    """The path+query of the confirmation link (the host is whatever PUBLIC_BASE_URL says)."""
    match = VERIFY_LINK.search(body)
    assert match, f"no confirmation link in mail body: {body[:500]}"
    parts = urlsplit(match.group(0))
    return f"{parts.path}?{parts.query}"


# --------------------------------------------------------------------------------------------- browser-ish


class HtmlForm(HTMLParser):
    """The first <form> of a page: its action, method and named fields (what a browser would submit)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.method = "get"
        self.fields: dict[str, str] = {}
        self._in_form = self._done = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and not self._done:
            self._in_form, self.action, self.method = (
                True,
                values.get("action", ""),
                values.get("method", "get"),
            )
        elif tag == "input" and self._in_form and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source_address: str) -> None:
        self.source_address = source_address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source_address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source_address: str) -> requests.Session:
    """A client whose TCP connections leave from `source_address` (e.g. 127.0.0.2: on Linux every
    127.0.0.0/8 address is the loopback, so a local gateway sees each as another client)."""
    session = requests.Session()
    adapter = _SourceAddressAdapter(source_address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --------------------------------------------------------------------------------------------- webhook


def webhook_sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_post(
    base_url: str,
    secret: str,
    *,
    user_id: str,
    amount: int,
    currency: str = "EUR",
    transaction_id: str | None = None,
    session: requests.Session | None = None,
) -> requests.Response:
    body = json.dumps(
        {
            "transaction_id": transaction_id or f"e2e-{uuid.uuid4()}",
            "user_id": user_id,
            "amount": amount,
            "currency": currency,
        }
    ).encode()
    return (session or requests).post(
        base_url.rstrip("/") + "/api/payments/webhook",
        data=body,
        headers={"Content-Type": "application/json", "X-Signature": webhook_sign(secret, body)},
        timeout=REQUEST_TIMEOUT,
    )


# --------------------------------------------------------------------------------------------- JWT forging


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def jwt_claims(token: str) -> dict:
    return jwt_parts(token)[1]


def jwt_unsigned(header: dict, claims: dict) -> str:
    return (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )


def jwt_alg_none(header: dict, claims: dict) -> str:
    return jwt_unsigned({**header, "alg": "none"}, claims) + "."


def jwt_hs256(header: dict, claims: dict, secret: bytes) -> str:
    signing_input = jwt_unsigned({**header, "alg": "HS256"}, claims)
    return signing_input + "." + b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


class ForeignRsaKey:
    """An RSA key Velo never saw, signing with the openssl CLI (no cryptography package in the tools venv)."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="velo-e2e-key-")
        self.path = os.path.join(self._dir.name, "key.pem")
        subprocess.run(
            [
                "openssl",
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                self.path,
            ],
            check=True,
            capture_output=True,
        )

    def sign_rs256(self, header: dict, claims: dict) -> str:
        signing_input = jwt_unsigned({**header, "alg": "RS256"}, claims)
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.path],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return signing_input + "." + b64url(signature)


def jwk_to_pem(jwk: dict) -> bytes:
    """An RSA JWK as a PEM SubjectPublicKeyInfo (what an HS256-confusion attacker would use as the secret)."""

    def der_len(n: int) -> bytes:
        if n < 0x80:
            return bytes([n])
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(raw)]) + raw

    def der(tag: int, content: bytes) -> bytes:
        return bytes([tag]) + der_len(len(content)) + content

    def der_int(value: bytes) -> bytes:
        value = value.lstrip(b"\x00") or b"\x00"
        if value[0] & 0x80:
            value = b"\x00" + value
        return der(0x02, value)

    rsa_key = der(0x30, der_int(b64url_decode(jwk["n"])) + der_int(b64url_decode(jwk["e"])))
    algorithm = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    spki = der(0x30, algorithm + der(0x03, b"\x00" + rsa_key))
    body = base64.encodebytes(spki).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n").encode()


# --------------------------------------------------------------------------------------------- rentals

BILLING_TIMEOUT = 30


def wallet_balance(api) -> dict:
    response = api.get("/api/wallet")
    assert response.status_code == 200, response.text[:300]
    return response.json()["balance"]


def ledger(api) -> list[dict]:
    entries, url = [], "/api/wallet/transactions?page_size=100"
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.text[:300]
        page = response.json()
        entries.extend(page["results"])
        url = page.get("next")
    return entries


def wait_billed(api, rental_id: str, poll, timeout: float = BILLING_TIMEOUT) -> dict:
    def billed():
        response = api.get(f"/api/rentals/{rental_id}")
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        return body if body["billing_status"] == "billed" else None

    return poll(billed, timeout, interval=0.3, message=f"rental {rental_id} billed")


def rent(api, bike_id: str) -> dict:
    response = api.post("/api/rentals", json={"bike_id": bike_id})
    assert response.status_code == 201, f"rent {bike_id}: {response.status_code} {response.text[:300]}"
    return response.json()
