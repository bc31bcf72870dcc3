import secrets
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

ROLE_RIDER = "rider"
ROLE_ADMIN = "admin"


def new_verification_nonce() -> str:
    return secrets.token_hex(16)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        # Django admin login goes through ModelBackend; emails match case-insensitively.
        return self.annotate(email_lower=Lower("email")).get(email_lower=(username or "").strip().lower())

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("name", "Administrator")
        extra.update(is_staff=True, is_superuser=True, email_verified=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # unique=True satisfies Django (USERNAME_FIELD); the Lower() constraint gives case-insensitivity.
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Operators: grants the admin role.")
    email_verified = models.BooleanField(default=False)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # Part of every confirmation link; rotated when a link is used or a new one is sent (single use).
    email_verification_nonce = models.CharField(max_length=32, default=new_verification_nonce, editable=False)
    date_joined = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="An account with this email already exists.",
            )
        ]
        indexes = [models.Index(fields=["-date_joined", "-id"], name="accounts_user_joined_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def roles(self) -> list[str]:
        return [ROLE_RIDER, ROLE_ADMIN] if self.is_staff else [ROLE_RIDER]
