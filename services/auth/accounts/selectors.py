import uuid

from django.db.models import QuerySet
from django.db.models.functions import Lower

from accounts.models import User


def email_normalize(*, email: str) -> str:
    return email.strip().lower()


def user_get_by_email(*, email: str) -> User | None:
    return (
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower=email_normalize(email=email))
        .first()
    )


def user_get(*, user_id: uuid.UUID | str) -> User | None:
    try:
        parsed = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        return None
    return User.objects.filter(id=parsed).first()


def user_list(*, email: str | None = None) -> QuerySet[User]:
    queryset = User.objects.all()
    if email:
        queryset = queryset.filter(email__icontains=email.strip())
    return queryset.order_by("-date_joined", "-id")
