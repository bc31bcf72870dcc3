from accounts.models import ROLE_ADMIN
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class HasAdminRole(BasePermission):
    """Admin = "admin" in the access token's roles (and the account is still staff)."""

    message = "This operation requires the admin role."

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if token is None or request.user is None:
            return False
        roles = token.get("roles", []) if hasattr(token, "get") else []
        return ROLE_ADMIN in roles and bool(getattr(request.user, "is_staff", False))
