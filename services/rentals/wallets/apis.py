import json

from core.exceptions import ValidationFailed
from core.pagination import keyset_paginate, paginated_serializer
from core.permissions import IsAdmin
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from fleet.apis import PAGE_PARAMS
from rentals.apis import MoneySerializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from wallets import selectors, services
from wallets.models import LedgerKind
from wallets.webhooks import verify_payment_signature


class LedgerEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LedgerKind.choices)
    amount = serializers.SerializerMethodField(help_text="Signed: top-ups positive, charges negative.")
    balance_after = serializers.SerializerMethodField()
    reason = serializers.CharField()
    reference = serializers.CharField(help_text="Payment transaction id (top-up) or rental id (charge).")
    created_at = serializers.DateTimeField()

    @extend_schema_field(MoneySerializer)
    def get_amount(self, entry) -> dict:
        return {"amount": entry.amount, "currency": entry.currency}

    @extend_schema_field(MoneySerializer)
    def get_balance_after(self, entry) -> dict:
        return {"amount": entry.balance_after, "currency": entry.currency}


class WalletOutputSerializer(serializers.Serializer):
    balance = MoneySerializer()


def _ledger_page(request, user_id):
    queryset, ordering = selectors.ledger_list(user_id=user_id)
    return keyset_paginate(
        request=request,
        queryset=queryset,
        ordering=ordering,
        serialize=lambda rows: LedgerEntryOutputSerializer(rows, many=True).data,
    )


LedgerPage = paginated_serializer(LedgerEntryOutputSerializer, "LedgerPage")


class WalletApi(APIView):
    @extend_schema(operation_id="wallet_retrieve", responses=WalletOutputSerializer)
    def get(self, request):
        return Response({"balance": selectors.wallet_balance(user_id=request.user.id)})


class WalletTransactionsApi(APIView):
    @extend_schema(
        operation_id="wallet_transactions",
        description="The rider's append-only ledger, newest first.",
        parameters=PAGE_PARAMS,
        responses=LedgerPage,
    )
    def get(self, request):
        return Response(_ledger_page(request, request.user.id))


class AdminWalletOutputSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    balance = serializers.SerializerMethodField()
    transactions_url = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(MoneySerializer)
    def get_balance(self, wallet) -> dict:
        return {"amount": wallet.balance, "currency": wallet.currency}

    def get_transactions_url(self, wallet) -> str:
        return self.context["request"].build_absolute_uri(f"/api/wallets/{wallet.user_id}/transactions")


class AdminWalletListApi(APIView):
    permission_classes = [IsAdmin]

    class FilterSerializer(serializers.Serializer):
        user_id = serializers.UUIDField(required=False)

    @extend_schema(
        operation_id="wallets_list",
        parameters=[OpenApiParameter("user_id", {"type": "string", "format": "uuid"}), *PAGE_PARAMS],
        responses=paginated_serializer(AdminWalletOutputSerializer, "AdminWalletPage"),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset, ordering = selectors.wallet_list(user_id=filters.validated_data.get("user_id"))
        return Response(
            keyset_paginate(
                request=request,
                queryset=queryset,
                ordering=ordering,
                serialize=lambda rows: (
                    AdminWalletOutputSerializer(rows, many=True, context={"request": request}).data
                ),
            )
        )


class AdminWalletTransactionsApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="wallets_transactions", parameters=PAGE_PARAMS, responses=LedgerPage)
    def get(self, request, user_id):
        return Response(_ledger_page(request, user_id))


class StrictIntegerField(serializers.IntegerField):
    """JSON integers only: "100", 1.5 and true are malformed money."""

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class PaymentWebhookApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    problem_codes = {"POST": ["401"]}

    class InputSerializer(serializers.Serializer):
        transaction_id = serializers.CharField(max_length=200)
        user_id = serializers.UUIDField()
        amount = StrictIntegerField(min_value=1, max_value=10**12, help_text="Positive, minor units.")
        currency = serializers.RegexField(r"^[A-Z]{3}$", max_length=3)

    class OutputSerializer(serializers.Serializer):
        transaction_id = serializers.CharField()
        applied = serializers.BooleanField(help_text="False when this transaction_id was credited before.")
        balance = MoneySerializer()

    @extend_schema(
        operation_id="payments_webhook",
        description=(
            "Payment provider callback. `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. "
            "Bad/missing signature → 401 `invalid-signature`; a transaction_id is credited once."
        ),
        parameters=[OpenApiParameter("X-Signature", str, OpenApiParameter.HEADER, required=True)],
        request=InputSerializer,
        responses={200: OutputSerializer},
    )
    def post(self, request):
        body = request.body
        verify_payment_signature(body=body, header=request.headers.get("X-Signature"))
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed("Body is not valid JSON.")
        if not isinstance(payload, dict):
            raise ValidationFailed("Body must be a JSON object.")
        serializer = self.InputSerializer(data=payload)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.wallet_top_up(
            user_id=data["user_id"],
            amount=data["amount"],
            currency=data["currency"],
            transaction_id=data["transaction_id"],
        )
        return Response(
            {
                "transaction_id": data["transaction_id"],
                "applied": result.applied,
                "balance": {"amount": result.entry.wallet.balance, "currency": result.entry.wallet.currency},
            }
        )
