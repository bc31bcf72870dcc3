from django.urls import path

from riders import apis

urlpatterns = [
    path("preferences", apis.PreferencesApi.as_view(), name="notification-preferences"),
    path("telegram", apis.TelegramApi.as_view(), name="telegram"),
    path("telegram/link", apis.TelegramLinkApi.as_view(), name="telegram-link"),
    path("telegram/webhook", apis.TelegramWebhookApi.as_view(), name="telegram-webhook"),
]
