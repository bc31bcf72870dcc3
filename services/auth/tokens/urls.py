from django.urls import path

from tokens import apis

urlpatterns = [
    path("token", apis.TokenObtainApi.as_view(), name="token"),
    path("token/refresh", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("logout", apis.LogoutApi.as_view(), name="logout"),
    path(".well-known/jwks.json", apis.JwksApi.as_view(), name="jwks"),
]
