"""OpenAPI helpers: the problem+json schema, error responses per view, and the Bearer scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.problems import PROBLEM_CONTENT_TYPE


class ProblemSerializer(serializers.Serializer):
    type = serializers.URLField(help_text="https://velo.example/problems/<slug>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(allow_null=True)
    request_id = serializers.CharField(allow_null=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field errors (validation-error only).",
    )

    class Meta:
        ref_name = "Problem"


_DESCRIPTIONS = {
    400: "Validation error or malformed request",
    401: "Missing, invalid or expired credentials",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    415: "Unsupported media type",
    429: "Rate limited (see Retry-After)",
    503: "Dependency unavailable",
}


def problem_responses(*statuses: int) -> dict:
    """Response map entries documenting application/problem+json errors for the given statuses."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=_DESCRIPTIONS[status])
        for status in statuses
    }


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tokens.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "RS256 access token from POST /api/auth/token",
        }
