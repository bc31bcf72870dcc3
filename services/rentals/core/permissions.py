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
