import pytest
from core.testing import assert_problem
from outbox.models import OutboxEvent
from tokens.models import RefreshFamily

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def admin_client(make_user, client_for):
    return client_for(make_user(email="ops@example.com", is_staff=True))


def test_list_is_admin_only(make_user, client_for, api_client):
    assert_problem(api_client.get("/api/auth/users"), 401, "not-authenticated")
    assert_problem(client_for(make_user()).get("/api/auth/users"), 403, "forbidden")


def test_list_paginates_with_cursor(make_user, admin_client):
    for n in range(5):
        make_user(email=f"page{n}@example.com")
    seen: list[str] = []
    url = "/api/auth/users?page_size=2"
    pages = 0
    while url:
        body = admin_client.get(url).json()
        assert set(body) == {"results", "next", "previous"}
        assert len(body["results"]) <= 2
        seen.extend(user["email"] for user in body["results"])
        url = body["next"]
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 6  # 5 riders + the admin


def test_list_page_size_is_capped_at_100(make_user, admin_client):
    body = admin_client.get("/api/auth/users?page_size=1000").json()
    assert len(body["results"]) == 1


def test_list_searches_by_email(make_user, admin_client):
    make_user(email="alice@example.com")
    make_user(email="bob@example.org")
    body = admin_client.get("/api/auth/users?email=ALICE").json()
    assert [user["email"] for user in body["results"]] == ["alice@example.com"]


def test_invalid_cursor_is_404_problem(admin_client):
    assert_problem(admin_client.get("/api/auth/users?cursor=zzz"), 404, "not-found")


def test_disable_and_reenable_a_user(make_user, admin_client, api_client, login, contract_validate):
    rider = make_user(email="rider@example.com")
    pair = login(rider)

    response = admin_client.patch(f"/api/auth/users/{rider.id}", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False

    # cannot log in, cannot refresh, the session is revoked
    login_attempt = api_client.post(
        "/api/auth/token", {"email": rider.email, "password": PASSWORD}, format="json"
    )
    assert_problem(login_attempt, 403, "account-disabled")
    refresh = api_client.post("/api/auth/token/refresh", {"refresh": pair["refresh"]}, format="json")
    assert refresh.status_code == 401
    assert RefreshFamily.objects.get(user=rider).revoked_reason == "account-disabled"
    # the still-unexpired access token is refused here as well
    me = api_client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert_problem(me, 401, "account-disabled")

    # patching to the same value again records nothing new
    admin_client.patch(f"/api/auth/users/{rider.id}", {"is_active": False}, format="json")
    response = admin_client.patch(f"/api/auth/users/{rider.id}", {"is_active": True}, format="json")
    assert response.json()["is_active"] is True
    login(rider)

    events = list(OutboxEvent.objects.filter(payload__data__user_id=str(rider.id)).order_by("created_at"))
    assert [event.event_type for event in events] == ["user.deactivated", "user.reactivated"]
    for event in events:
        contract_validate(event.payload)


def test_retrieve_a_user(make_user, admin_client):
    rider = make_user()
    assert admin_client.get(f"/api/auth/users/{rider.id}").json()["email"] == rider.email


def test_patch_validation_and_unknown_ids(make_user, admin_client):
    rider = make_user()
    assert_problem(
        admin_client.patch(f"/api/auth/users/{rider.id}", {}, format="json"), 400, "validation-error"
    )
    assert_problem(
        admin_client.patch(f"/api/auth/users/{rider.id}", {"is_active": "maybe"}, format="json"),
        400,
        "validation-error",
    )
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(
        admin_client.patch(f"/api/auth/users/{missing}", {"is_active": False}, format="json"),
        404,
        "not-found",
    )
    assert_problem(admin_client.get(f"/api/auth/users/{missing}"), 404, "not-found")
    assert_problem(
        admin_client.patch("/api/auth/users/not-a-uuid", {"is_active": False}, format="json"),
        404,
        "not-found",
    )


def test_admin_cannot_disable_themselves(make_user, client_for):
    admin = make_user(is_staff=True)
    response = client_for(admin).patch(f"/api/auth/users/{admin.id}", {"is_active": False}, format="json")
    assert_problem(response, 409, "conflict")


def test_non_admin_cannot_patch(make_user, client_for):
    rider, other = make_user(), make_user()
    response = client_for(rider).patch(f"/api/auth/users/{other.id}", {"is_active": False}, format="json")
    assert_problem(response, 403, "forbidden")
