from rest_framework_simplejwt.authentication import JWTAuthentication


class BearerTokenAuthentication(JWTAuthentication):
    """`Authorization: Bearer <RS256 access token>`; loads the user so a disabled account is refused."""

    www_authenticate_realm = "api"
