from django.urls import path

from accounts import apis

urlpatterns = [
    path("register", apis.RegisterApi.as_view(), name="register"),
    path("verify", apis.VerifyApi.as_view(), name="verify"),
    path("verify/resend", apis.VerifyResendApi.as_view(), name="verify-resend"),
    path("me", apis.MeApi.as_view(), name="me"),
    path("password", apis.PasswordChangeApi.as_view(), name="password"),
    path("password/reset", apis.PasswordResetApi.as_view(), name="password-reset"),
    path("password/reset/confirm", apis.PasswordResetConfirmApi.as_view(), name="password-reset-confirm"),
    path("users", apis.UserListApi.as_view(), name="users"),
    path("users/<uuid:user_id>", apis.UserDetailApi.as_view(), name="user-detail"),
]
