from core.pagination import keyset_paginate, paginated_serializer
from core.s3 import presigned_invoice_url
from core.schema import IDEMPOTENCY_KEY
from core.serializers import StrictInputSerializer
from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiResponse, extend_schema
from fleet.apis import PAGE_PARAMS
from idempotency.apis import idempotent_response
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from rentals import selectors, services
from rentals.models import RentalStatus


class MoneySerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()


class TariffSnapshotSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    unlock_fee = serializers.IntegerField()
    price_per_minute = serializers.IntegerField()
    daily_cap = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()


class RentalOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    bike_id = serializers.UUIDField()
    bike_number = serializers.CharField()
    status = serializers.ChoiceField(choices=RentalStatus.choices)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.IntegerField(allow_null=True)
    start_station_id = serializers.UUIDField(allow_null=True)
    end_station_id = serializers.UUIDField(allow_null=True)
    tariff = TariffSnapshotSerializer(source="tariff_snapshot", help_text="Captured when the rental started.")
    cost = MoneySerializer(allow_null=True)
    billing_status = serializers.ChoiceField(choices=["pending", "billed"])
    invoice_id = serializers.UUIDField(allow_null=True)


class RentalListApi(APIView):
    problem_codes = {"POST": ["402", "409"]}

    class InputSerializer(StrictInputSerializer):
        bike_id = serializers.UUIDField()

    @extend_schema(
        operation_id="rentals_list",
        description="The rider's rentals, newest first.",
        parameters=PAGE_PARAMS,
        responses=paginated_serializer(RentalOutputSerializer, "RentalPage"),
    )
    def get(self, request):
        queryset, ordering = selectors.rental_history(user_id=request.user.id)
        return Response(
            keyset_paginate(
                request=request,
                queryset=queryset,
                ordering=ordering,
                serialize=lambda rows: RentalOutputSerializer(rows, many=True).data,
            )
        )

    @extend_schema(
        operation_id="rentals_start",
        description=(
            "Rent a bike with the tariff in force. 409 `active-rental-exists`, 409 `bike-unavailable`, "
            "402 `payment-required` (negative wallet), 404 unknown bike."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: RentalOutputSerializer},
    )
    def post(self, request):
        def handler():
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            rental = services.rental_start(
                user_id=request.user.id,
                user_email=request.user.email,
                user_name=request.user.name,
                bike_id=serializer.validated_data["bike_id"],
            )
            return status.HTTP_201_CREATED, RentalOutputSerializer(rental).data

        return idempotent_response(request=request, handler=handler)


class RentalActiveApi(APIView):
    @extend_schema(operation_id="rentals_active", responses=RentalOutputSerializer)
    def get(self, request):
        return Response(RentalOutputSerializer(selectors.rental_active(user_id=request.user.id)).data)


class RentalDetailApi(APIView):
    @extend_schema(operation_id="rentals_retrieve", responses=RentalOutputSerializer)
    def get(self, request, rental_id):
        rental = selectors.rental_get(user_id=request.user.id, rental_id=rental_id)
        return Response(RentalOutputSerializer(rental).data)


class RentalFinishApi(APIView):
    class InputSerializer(StrictInputSerializer):
        station_id = serializers.UUIDField(required=False, allow_null=True)

    @extend_schema(
        operation_id="rentals_finish",
        description="Finish the rental (optionally at a station). Finishing twice returns the same rental.",
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={200: RentalOutputSerializer},
    )
    def post(self, request, rental_id):
        def handler():
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            rental = services.rental_finish(
                user_id=request.user.id,
                rental_id=rental_id,
                station_id=serializer.validated_data.get("station_id"),
            )
            return status.HTTP_200_OK, RentalOutputSerializer(rental).data

        return idempotent_response(request=request, handler=handler)


class RentalInvoiceApi(APIView):
    @extend_schema(
        operation_id="rentals_invoice",
        description="302 to a short-lived presigned URL of the invoice JSON; 404 until the rental is billed.",
        responses={302: OpenApiResponse(description="Location: presigned S3 URL")},
    )
    def get(self, request, rental_id):
        key = selectors.rental_invoice_key(user_id=request.user.id, rental_id=rental_id)
        response = HttpResponseRedirect(presigned_invoice_url(key=key))
        response["Cache-Control"] = "no-store"
        return response
