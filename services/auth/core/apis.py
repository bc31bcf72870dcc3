from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import ServiceUnavailable
from core.openapi import problem_responses
from core.readiness import readiness_checks

_Status = inline_serializer("HealthStatus", fields={"status": serializers.CharField()})


class HealthzApi(APIView):
    """Liveness: no I/O."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(operation_id="healthz", responses={200: _Status}, auth=[], tags=["health"])
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyzApi(APIView):
    """Readiness: the database and the broker answer."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="readyz",
        responses={
            200: inline_serializer(
                "ReadyStatus",
                fields={"status": serializers.CharField(), "checks": serializers.DictField()},
            ),
            **problem_responses(503),
        },
        auth=[],
        tags=["health"],
    )
    def get(self, request: Request) -> Response:
        checks = {name: "ok" if ok else "unavailable" for name, ok in readiness_checks().items()}
        failed = [name for name, state in checks.items() if state != "ok"]
        if failed:
            raise ServiceUnavailable(f"Unavailable: {', '.join(failed)}.")
        return Response({"status": "ok", "checks": checks})


# The root probes (for orchestrators) are the same views; the schema documents the /api/auth ones.
@extend_schema_view(get=extend_schema(exclude=True))
class ProbeHealthzApi(HealthzApi):
    pass


@extend_schema_view(get=extend_schema(exclude=True))
class ProbeReadyzApi(ReadyzApi):
    pass
