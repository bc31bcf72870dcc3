import datetime as dt
import uuid

from django.db import transaction

from riders.models import Rider


@transaction.atomic
def rider_set_deactivated(*, user_id: uuid.UUID, deactivated: bool, changed_at: dt.datetime) -> Rider:
    """Apply user.deactivated / user.reactivated; idempotent and safe against out-of-order delivery."""
    rider, created = Rider.objects.select_for_update().get_or_create(
        user_id=user_id, defaults={"is_deactivated": deactivated, "status_changed_at": changed_at}
    )
    if not created and changed_at >= rider.status_changed_at:
        rider.is_deactivated = deactivated
        rider.status_changed_at = changed_at
        rider.save(update_fields=["is_deactivated", "status_changed_at", "updated_at"])
    return rider
