"""Register the webhook with Telegram (setWebhook with the secret token). Does nothing when the channel is
off or TELEGRAM_WEBHOOK_URL is unset."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand

from notifications.integrations import telegram


class Command(BaseCommand):
    help = "setWebhook: TELEGRAM_WEBHOOK_URL with TELEGRAM_WEBHOOK_SECRET"

    def handle(self, *args, **options):
        url = os.environ.get("TELEGRAM_WEBHOOK_URL", "")
        if not telegram.enabled() or not url:
            self.stdout.write("telegram: channel off or TELEGRAM_WEBHOOK_URL unset; nothing to do")
            return
        telegram.set_webhook(url=url, secret_token=settings.TELEGRAM_WEBHOOK_SECRET)
        self.stdout.write(f"telegram: webhook set to {url}")
