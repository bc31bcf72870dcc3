"""HTTP: preferences, Telegram linking, the bot's webhook. A view validates, calls one service, serializes."""

from core.exceptions import ValidationFailed
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from riders import selectors, services
from riders.models import Category


def _claims(request) -> tuple[str, str]:
    claims = request.auth or {}
    return str(claims.get("email") or ""), str(claims.get("name") or "")


class _ChannelsSerializer(serializers.Serializer):
    email = serializers.BooleanField(required=False)
    telegram = serializers.BooleanField(required=False)

    def to_internal_value(self, data):
        unknown = set(data) - set(self.fields) if isinstance(data, dict) else set()
        if unknown:
            raise serializers.ValidationError({name: ["Unknown channel."] for name in sorted(unknown)})
        return super().to_internal_value(data)


class PreferencesSerializer(serializers.Serializer):
    receipts = _ChannelsSerializer(required=False)
    reminders = _ChannelsSerializer(required=False)
    account = _ChannelsSerializer(required=False)


class PreferencesOutputSerializer(serializers.Serializer):
    receipts = _ChannelsSerializer()
    reminders = _ChannelsSerializer()
    account = _ChannelsSerializer()
    telegram_linked = serializers.BooleanField()


class PreferencesApi(APIView):
    @extend_schema(operation_id="notification_preferences_get", responses=PreferencesOutputSerializer)
    def get(self, request):
        return Response(selectors.preferences_get(user_id=request.user.id))

    @extend_schema(
        operation_id="notification_preferences_update",
        request=PreferencesSerializer,
        responses=PreferencesOutputSerializer,
        description="Channels per category (receipts, reminders, account); only what is sent changes. "
        "Defaults: email on; Telegram on once a chat is linked.",
    )
    def patch(self, request):
        if not isinstance(request.data, dict):
            raise ValidationFailed("The body must be a JSON object.")
        unknown = set(request.data) - {c.value for c in Category}
        if unknown:
            raise ValidationFailed(errors={name: ["Unknown category."] for name in sorted(unknown)})
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email, name = _claims(request)
        rider = services.preferences_update(
            user_id=request.user.id, email=email, name=name, changes=serializer.validated_data
        )
        return Response(selectors.preferences_of(rider))


class TelegramLinkOutputSerializer(serializers.Serializer):
    url = serializers.URLField()
    code = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TelegramLinkApi(APIView):
    @extend_schema(
        operation_id="telegram_link_create",
        request=None,
        responses={201: TelegramLinkOutputSerializer},
        description="A one-time deep link to the bot; opening it sends `/start <code>`, which links the chat "
        "to this rider. The code expires after 10 minutes.",
    )
    def post(self, request):
        email, name = _claims(request)
        link, url = services.telegram_link_create(user_id=request.user.id, email=email, name=name)
        body = {"url": url, "code": link.code, "expires_at": link.expires_at}
        return Response(TelegramLinkOutputSerializer(body).data, status=status.HTTP_201_CREATED)


class TelegramApi(APIView):
    @extend_schema(operation_id="telegram_unlink", responses={204: None})
    def delete(self, request):
        services.telegram_unlink(user_id=request.user.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _ChatSerializer(serializers.Serializer):
    id = serializers.IntegerField()


class _MessageSerializer(serializers.Serializer):
    chat = _ChatSerializer()
    text = serializers.CharField(required=False, allow_blank=True, default="")


class TelegramUpdateSerializer(serializers.Serializer):
    update_id = serializers.IntegerField()
    message = _MessageSerializer(required=False)


class TelegramWebhookApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="telegram_webhook",
        request=TelegramUpdateSerializer,
        responses={200: inline_serializer("TelegramWebhookResult", {"result": serializers.CharField()})},
        description="Called by Telegram with the `X-Telegram-Bot-Api-Secret-Token` header "
        "(TELEGRAM_WEBHOOK_SECRET); a wrong or missing secret is a 401 and nothing is stored.",
        auth=[],
    )
    def post(self, request):
        services.webhook_secret_check(given=request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        serializer = TelegramUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = serializer.validated_data.get("message") or {}
        result = services.telegram_update_apply(
            update_id=serializer.validated_data["update_id"],
            chat_id=message.get("chat", {}).get("id"),
            text=message.get("text", ""),
        )
        return Response({"result": result})
