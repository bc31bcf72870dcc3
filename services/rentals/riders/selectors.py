import uuid

from riders.models import Rider


def rider_is_deactivated(*, user_id: uuid.UUID) -> bool:
    return Rider.objects.filter(user_id=user_id, is_deactivated=True).exists()
