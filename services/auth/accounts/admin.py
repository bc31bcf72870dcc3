from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts.models import User
from accounts.services import user_set_active


class VeloUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class VeloUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = VeloUserChangeForm
    add_form = VeloUserCreationForm
    ordering = ("-date_joined",)
    list_display = ("email", "name", "is_active", "email_verified", "is_staff", "date_joined")
    list_filter = ("is_active", "email_verified", "is_staff")
    search_fields = ("email", "name")
    readonly_fields = ("id", "date_joined", "deactivated_at", "email_verified_at", "last_login")
    fieldsets = (
        (None, {"fields": ("id", "email", "name", "password")}),
        ("Status", {"fields": ("is_active", "email_verified", "email_verified_at", "deactivated_at")}),
        ("Permissions", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)

    def save_model(self, request, obj, form, change) -> None:
        # Enabling/disabling goes through the service so sessions are revoked and events recorded.
        if change and "is_active" in form.changed_data:
            wanted = obj.is_active
            obj.is_active = not wanted
            super().save_model(request, obj, form, change)
            user_set_active(user_id=obj.id, is_active=wanted)
            obj.refresh_from_db()
            return
        super().save_model(request, obj, form, change)
