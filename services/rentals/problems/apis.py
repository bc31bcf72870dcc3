from core.pagination import keyset_paginate, paginated_serializer
from core.permissions import IsAdmin
from core.schema import IDEMPOTENCY_KEY
from core.serializers import StrictInputSerializer
from drf_spectacular.utils import OpenApiParameter, extend_schema
from idempotency.apis import idempotent_response
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from problems import selectors, services
from problems.models import ProblemCategory, ProblemStatus

PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="Opaque cursor from `next`/`previous`."),
    OpenApiParameter(
        "page_size", {"type": "integer", "minimum": 1, "maximum": 100}, description="1-100, default 20."
    ),
]


class ProblemOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    bike_id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    rental_id = serializers.UUIDField(allow_null=True)
    category = serializers.ChoiceField(choices=ProblemCategory.choices)
    unsafe = serializers.BooleanField()
    text = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=ProblemStatus.choices)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = serializers.UUIDField(allow_null=True)
    resolution_note = serializers.CharField(allow_blank=True)
    bike_condition = serializers.CharField(source="bike.condition", help_text="The bike's condition now.")


class BikeProblemApi(APIView):
    """Any rider reports a problem with a bike (its current renter, mid-trip, too)."""

    problem_codes = {"POST": ["409"]}

    class InputSerializer(StrictInputSerializer):
        category = serializers.ChoiceField(choices=ProblemCategory.choices)
        text = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="bikes_problems_create",
        description="`brakes` (unsafe) takes the bike out of service at once (`needs_check`), as do "
        "PROBLEM_REPORTS_TO_CHECK open reports from different riders. The renter's report waives the unlock "
        "fee of the rental. 409: you already have an open report for this bike.",
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: ProblemOutputSerializer},
    )
    def post(self, request, bike_id):
        def handler():
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            report = services.problem_report(
                bike_id=bike_id, user_id=request.user.id, **serializer.validated_data
            )
            return status.HTTP_201_CREATED, ProblemOutputSerializer(report).data

        return idempotent_response(request=request, handler=handler)


class ProblemListApi(APIView):
    permission_classes = [IsAdmin]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ProblemStatus.choices, required=False)
        bike_id = serializers.UUIDField(required=False)

    @extend_schema(
        operation_id="problems_list",
        parameters=[
            OpenApiParameter("status", {"type": "string", "enum": ProblemStatus.values}),
            OpenApiParameter("bike_id", {"type": "string", "format": "uuid"}),
            *PAGE_PARAMS,
        ],
        responses=paginated_serializer(ProblemOutputSerializer, "ProblemPage"),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset, ordering = selectors.problem_list(**filters.validated_data)
        return Response(
            keyset_paginate(
                request=request,
                queryset=queryset.select_related("bike"),
                ordering=ordering,
                serialize=lambda rows: ProblemOutputSerializer(rows, many=True).data,
            )
        )


class ProblemDetailApi(APIView):
    permission_classes = [IsAdmin]
    problem_codes = {"PATCH": ["409"]}

    class InputSerializer(StrictInputSerializer):
        status = serializers.ChoiceField(choices=[ProblemStatus.RESOLVED, ProblemStatus.REJECTED])
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="problems_retrieve", responses=ProblemOutputSerializer)
    def get(self, request, problem_id):
        return Response(ProblemOutputSerializer(selectors.problem_get(problem_id=problem_id)).data)

    @extend_schema(
        operation_id="problems_update",
        description="Resolve or reject an open report (409 once closed). The bike's condition is changed "
        "separately (`POST /api/bikes/{id}/condition`).",
        request=InputSerializer,
        responses=ProblemOutputSerializer,
    )
    def patch(self, request, problem_id):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.problem_resolve(
            problem_id=problem_id, resolved_by=request.user.id, **serializer.validated_data
        )
        return Response(ProblemOutputSerializer(report).data)
