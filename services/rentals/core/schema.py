"""OpenAPI: Bearer JWT scheme, the problem+json error responses on every operation, tags per domain."""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from core.problems import PROBLEM_CONTENT_TYPE


class ProblemSerializer(serializers.Serializer):
    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField()
    request_id = serializers.CharField(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.JWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type={"type": "string", "minLength": 1, "maxLength": 255},
    description="Retrying with the same key and body returns the first response; another body → 422.",
)


# Swagger UI and ReDoc group operations by tag: the first pattern matching an operation's path names its
# domain (a view's own extend_schema(tags=...) still wins).
TAGS_BY_PATH = (
    (re.compile(r"^/api/bikes/[^/]+/reservation"), "reservations"),
    (re.compile(r"^/api/reservations"), "reservations"),
    (re.compile(r"^/api/bikes"), "bikes"),
    (re.compile(r"^/api/stations"), "stations"),
    (re.compile(r"^/api/tariffs"), "tariffs"),
    (re.compile(r"^/api/rentals"), "rentals"),
    (re.compile(r"^/api/wallets?(/|$)"), "wallet"),
    (re.compile(r"^/api/payments"), "payments"),
    (re.compile(r"^/api/problems"), "problems"),
    (re.compile(r"^/api/alerts"), "alerts"),
    (re.compile(r"^/api/zones"), "zones"),
    (re.compile(r"^/api/stats"), "stats"),
    (re.compile(r"^/gbfs"), "GBFS"),
    (re.compile(r"^/api/(healthz|readyz)$"), "health"),
)


class ProblemAutoSchema(AutoSchema):
    _descriptions = {
        "400": "Validation error or malformed request",
        "401": "Missing, invalid or expired token",
        "402": "Payment required",
        "403": "Forbidden or account disabled",
        "404": "Not found",
        "405": "Method not allowed",
        "409": "Conflict",
        "415": "Unsupported media type",
        "422": "Idempotency-Key reused with a different request",
        "500": "Internal error",
    }

    def get_tags(self) -> list[str]:
        for pattern, tag in TAGS_BY_PATH:
            if pattern.match(self.path):
                return [tag]
        return super().get_tags()

    def get_serializer_name(self, serializer, direction):
        # Nested Input/Output serializers share class names; name components after their view.
        qualname = type(serializer).__qualname__
        if "." in qualname:
            view_name, inner = qualname.rsplit(".", 1)
            return view_name.removesuffix("Api") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)

    def _problem_codes(self) -> list[str]:
        codes = ["400", "404", "405", "500"]
        if self.get_auth():
            codes += ["401", "403"]
        if self.method in ("POST", "PATCH", "PUT"):
            codes += ["415"]
        if self.method == "POST" and self.get_auth():
            codes += ["422"]
        codes += getattr(self.view, "problem_codes", {}).get(self.method, [])
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        component = self.resolve_serializer(ProblemSerializer, "response")
        for code in self._problem_codes():
            responses.setdefault(
                code,
                {
                    "description": self._descriptions.get(code, "Error"),
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": component.ref}},
                },
            )
        return responses
