import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from outbox.models import OutboxEvent
from tokens.models import RefreshFamily
from tokens.services import token_pair_issue

from accounts.admin import UserAdmin
from accounts.models import User

pytestmark = pytest.mark.django_db


class _Form:
    changed_data = ("is_active",)


def test_disabling_in_django_admin_goes_through_the_service(make_user):
    operator = make_user(is_staff=True)
    rider = make_user()
    token_pair_issue(user=rider)
    request = RequestFactory().post("/api/auth/admin/")
    request.user = operator

    rider.is_active = False
    UserAdmin(User, site).save_model(request, rider, _Form(), change=True)

    rider.refresh_from_db()
    assert rider.is_active is False and rider.deactivated_at is not None
    assert RefreshFamily.objects.get(user=rider).revoked_reason == "account-disabled"
    assert OutboxEvent.objects.get().event_type == "user.deactivated"


def test_admin_pages_render_for_operators(client, make_user):
    operator = make_user(is_staff=True)
    rider = make_user()
    client.force_login(operator)
    assert client.get("/api/auth/admin/").status_code == 200
    assert client.get("/api/auth/admin/accounts/user/").status_code == 200
    assert client.get(f"/api/auth/admin/accounts/user/{rider.id}/change/").status_code == 200
    assert client.get("/api/auth/admin/accounts/user/add/").status_code == 200
