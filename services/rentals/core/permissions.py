from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsAdmin(BasePermission):
    message = "Administrator role required."

    def has_permission(self, request, view):
        return bool(getattr(request.user, "is_authenticated", False) and request.user.is_admin)


class IsAdminOrReadOnly(BasePermission):
    """Any authenticated user may read; only admins may write."""

    message = "Administrator role required."

    def has_permission(self, request, view):
        if not getattr(request.user, "is_authenticated", False):
            return False
        return request.method in SAFE_METHODS or request.user.is_admin


class IsAgency(BasePermission):
    """An agency's token for this provider: role `agency` and a `provider_id` claim equal to
    MDS_PROVIDER_ID (riders, operators and other providers' agencies get 403), from a client auth has not
    revoked (its `agency_client.revoked` event, applied by the inbox): a revoked client's token is a 401."""

    message = "An agency token for this provider is required."

    def has_permission(self, request, view):
        from agencies.selectors import agency_client_is_revoked
        from django.conf import settings

        user = request.user
        if not getattr(user, "is_authenticated", False) or "agency" not in user.roles:
            return False
        claims = request.auth if isinstance(request.auth, dict) else {}
        if str(claims.get("provider_id", "")) != str(settings.MDS_PROVIDER_ID):
            return False
        if agency_client_is_revoked(client_id=user.id):
            raise AuthenticationFailed("This agency client has been revoked.")
        return True
