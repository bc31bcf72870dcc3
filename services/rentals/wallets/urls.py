from django.urls import path

from wallets import apis

urlpatterns = [
    path("wallet", apis.WalletApi.as_view(), name="wallet"),
    path("wallet/transactions", apis.WalletTransactionsApi.as_view(), name="wallet-transactions"),
    path("wallets", apis.AdminWalletListApi.as_view(), name="wallets"),
    path(
        "wallets/<uuid:user_id>/transactions", apis.AdminWalletTransactionsApi.as_view(), name="wallet-ledger"
    ),
    path("payments/webhook", apis.PaymentWebhookApi.as_view(), name="payments-webhook"),
]
