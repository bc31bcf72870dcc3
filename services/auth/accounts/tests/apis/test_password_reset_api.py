import re
from html.parser import HTMLParser
from urllib.parse import unquote, urlencode, urlsplit

import pytest
from core.testing import assert_problem
from django.core import mail
from outbox.models import OutboxEvent

from accounts.emails import password_reset_token_make

pytestmark = pytest.mark.django_db

RESET = "/api/auth/password/reset"
CONFIRM = "/api/auth/password/reset/confirm"
NEW = "a-brand-new-secret-2026"


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        if tag == "input":
            self.fields[attrs["name"]] = attrs.get("value", "")


def test_reset_answers_alike_for_known_and_unknown_addresses(api_client, make_user):
    user = make_user()
    known = api_client.post(RESET, {"email": user.email}, format="json")
    unknown = api_client.post(RESET, {"email": "ghost@example.com"}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known["Content-Type"] == unknown["Content-Type"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]


def test_reset_validates_and_is_rate_limited(api_client, settings):
    assert_problem(api_client.post(RESET, {"email": "x"}, format="json"), 400, "validation-error")
    assert_problem(
        api_client.post(RESET, {"email": "a@example.com", "x": 1}, format="json"), 400, "validation-error"
    )
    response = api_client.post(RESET, "email=a@example.com", content_type="text/plain")
    assert_problem(response, 415, "unsupported-media-type")
    settings.AUTH_RESET_RATE_PER_IP = 1
    assert api_client.post(RESET, {"email": "a@example.com"}, format="json").status_code == 202
    response = api_client.post(RESET, {"email": "b@example.com"}, format="json")
    assert_problem(response, 429, "rate-limited")
    assert int(response["Retry-After"]) >= 1


def test_confirm_json_sets_password_and_revokes_sessions(api_client, make_user, login):
    user = make_user()
    tokens = login(user)
    token = password_reset_token_make(user=user)
    response = api_client.post(CONFIRM, {"token": token, "new_password": NEW}, format="json")
    assert response.status_code == 204, response.content
    refreshed = api_client.post("/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert_problem(refreshed, 401, "token-invalid")
    assert login(user, NEW)["access"]
    again = api_client.post(CONFIRM, {"token": token, "new_password": "other-secret-9876"}, format="json")
    assert_problem(again, 400, "token-invalid")


@pytest.mark.parametrize(
    ("payload", "slug"),
    [
        ({"token": "garbage", "new_password": NEW}, "token-invalid"),
        ({"token": "", "new_password": NEW}, "validation-error"),
        ({"new_password": NEW}, "validation-error"),
        ({"token": "x"}, "validation-error"),
        ({"token": "x", "new_password": NEW, "extra": 1}, "validation-error"),
        ({"token": "x" * 3000, "new_password": NEW}, "validation-error"),
    ],
)
def test_confirm_bad_input_is_400_problem_json(api_client, make_user, payload, slug):
    make_user()
    assert_problem(api_client.post(CONFIRM, payload, format="json"), 400, slug)
    assert not OutboxEvent.objects.exists()


def test_confirm_weak_password_is_400_with_field_errors(api_client, make_user):
    user = make_user()
    token = password_reset_token_make(user=user)
    response = api_client.post(CONFIRM, {"token": token, "new_password": "12345"}, format="json")
    assert "new_password" in assert_problem(response, 400, "validation-error")["errors"]


def _form_post(client, path, fields):
    return client.post(path, urlencode(fields), content_type="application/x-www-form-urlencoded")


def test_the_mailed_link_opens_a_form_that_sets_the_password(api_client, make_user, login):
    user = make_user()
    api_client.post(RESET, {"email": user.email}, format="json")
    link = re.search(r"(http://gateway\.test/\S+)", mail.outbox[-1].body).group(1)
    url = urlsplit(link)
    assert url.path == CONFIRM

    page = api_client.get(f"{url.path}?{url.query}")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert page["Referrer-Policy"] == "no-referrer" and page["Cache-Control"] == "no-store"
    form = _Form()
    form.feed(page.content.decode())
    assert form.action == CONFIRM
    assert form.fields["token"] == unquote(url.query.removeprefix("token="))

    fields = {**form.fields, "new_password": NEW, "new_password_again": "typo" + NEW}
    retry = _form_post(api_client, form.action, fields)  # a browser's form post
    assert retry.status_code == 200 and b"differ" in retry.content

    done = _form_post(
        api_client, form.action, {**form.fields, "new_password": NEW, "new_password_again": NEW}
    )
    assert done.status_code == 200 and b'id="result"' in done.content
    assert login(user, NEW)["access"]

    used = _form_post(
        api_client, form.action, {**form.fields, "new_password": NEW, "new_password_again": NEW}
    )
    assert b"already used" in used.content and b"<form" not in used.content


def test_the_form_escapes_the_token(api_client):
    page = api_client.get(CONFIRM, {"token": '"><script>alert(1)</script>'})
    assert page.status_code == 200
    assert b"<script>" not in page.content


def test_the_form_shows_validator_messages(api_client, make_user):
    token = password_reset_token_make(user=make_user())
    page = _form_post(
        api_client, CONFIRM, {"token": token, "new_password": "12345", "new_password_again": "12345"}
    )
    assert page.status_code == 200 and b"too short" in page.content and b"<form" in page.content


def test_the_form_without_token_is_400_problem_json(api_client):
    assert_problem(api_client.get(CONFIRM), 400, "validation-error")
