import uuid

from riders.models import Category, Channel, Rider


def preferences_get(*, user_id: uuid.UUID) -> dict:
    rider = Rider.objects.filter(user_id=user_id).first() or Rider(user_id=user_id)
    return preferences_of(rider)


def preferences_of(rider: Rider) -> dict:
    body = {
        category.value: {
            channel.value: rider.wants(category=category, channel=channel) for channel in Channel
        }
        for category in Category
    }
    body["telegram_linked"] = rider.telegram_chat_id is not None
    return body
