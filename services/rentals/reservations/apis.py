from core.exceptions import NotFound
from core.schema import IDEMPOTENCY_KEY
from drf_spectacular.utils import OpenApiResponse, extend_schema
from idempotency.apis import idempotent_response
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from reservations import selectors, services
from reservations.models import ReservationStatus


class ReservationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    bike_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ReservationStatus.choices)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="The reservation is over at this instant (exclusive).")


class BikeReservationApi(APIView):
    problem_codes = {"POST": ["402", "409"]}

    @extend_schema(
        operation_id="bikes_reservation_create",
        description=(
            "Hold the bike for `RESERVATION_MINUTES`; only you can rent it meanwhile. "
            "409 `bike-unavailable` (not available or reserved by someone else), 409 `conflict` (you already "
            "hold a reservation), 409 `active-rental-exists`, 402 `payment-required`, 404 unknown bike."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={201: ReservationOutputSerializer},
    )
    def post(self, request, bike_id):
        def handler():
            reservation = services.reservation_create(user_id=request.user.id, bike_id=bike_id)
            return status.HTTP_201_CREATED, ReservationOutputSerializer(reservation).data

        return idempotent_response(request=request, handler=handler)

    @extend_schema(
        operation_id="bikes_reservation_release",
        description="Release your reservation of this bike. 404 when you hold none on it.",
        request=None,
        responses={204: OpenApiResponse(description="Released")},
    )
    def delete(self, request, bike_id):
        if services.reservation_cancel(user_id=request.user.id, bike_id=bike_id) is None:
            raise NotFound("You hold no reservation of this bike.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReservationActiveApi(APIView):
    @extend_schema(
        operation_id="reservations_active",
        description="Your live reservation; 404 when none (an expired one is never shown).",
        responses=ReservationOutputSerializer,
    )
    def get(self, request):
        return Response(
            ReservationOutputSerializer(selectors.reservation_active(user_id=request.user.id)).data
        )
