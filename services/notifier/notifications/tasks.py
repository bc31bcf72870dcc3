"""Celery tasks: thin wrappers around services (they take ids, hold no logic)."""

import logging

from config.celery import app
from django.forms.models import model_to_dict

from notifications import services
from notifications.amqp import delivery_dead_letter
from notifications.models import Notification

logger = logging.getLogger(__name__)


@app.task(bind=True, name="notifier.deliver_notification_task", max_retries=None, acks_late=True)
def deliver_notification_task(self, notification_id: int) -> str:
    """Send one message after the transaction that created it committed; the attempt count lives in its
    row (NOTIFIER_MAX_RETRIES), after which it is FAILED and copied to notifier.deliveries.dlq."""
    delivery = services.notification_deliver(notification_id=notification_id)
    if delivery.outcome == "retry":
        logger.warning(
            "delivery failed; retrying",
            extra={"notification": notification_id, "error": delivery.error, "countdown": delivery.countdown},
        )
        raise self.retry(countdown=delivery.countdown)
    if delivery.outcome == "dead":
        row = Notification.objects.filter(pk=notification_id).first()
        delivery_dead_letter(
            notification=model_to_dict(row) if row else {"id": notification_id}, reason=delivery.error
        )
    return delivery.outcome
