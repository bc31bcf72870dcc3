from core.permissions import IsAdmin
from drf_spectacular.utils import extend_schema
from rentals.apis import MoneySerializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from stats import selectors, services


class HourSerializer(serializers.Serializer):
    hour = serializers.DateTimeField(help_text="Start of the UTC hour.")
    rides_started = serializers.IntegerField()
    rides_finished = serializers.IntegerField()
    revenue = MoneySerializer(many=True, help_text="Billed cost of the rides finished in this hour.")


class TotalsSerializer(serializers.Serializer):
    rides_started = serializers.IntegerField()
    rides_finished = serializers.IntegerField()
    revenue = MoneySerializer(many=True)
    average_duration_seconds = serializers.IntegerField(allow_null=True)


class BillingSerializer(serializers.Serializer):
    pending = serializers.IntegerField(help_text="Finished rentals (any day) without an invoice yet.")
    oldest_pending_seconds = serializers.IntegerField(allow_null=True)
    average_lag_seconds = serializers.FloatField(
        allow_null=True, help_text="Mean time from finish to invoice of today's billed rides."
    )


class StatsTodayOutputSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="Today (UTC).")
    generated_at = serializers.DateTimeField()
    hours = HourSerializer(many=True, help_text="From 00:00 UTC up to the current hour.")
    totals = TotalsSerializer()
    active_rentals = serializers.IntegerField()
    billing = BillingSerializer()
    open_problem_reports = serializers.IntegerField()


class StatsTodayApi(APIView):
    """The operator console's "Today" page: rides, revenue, ride time, billing lag and open reports. Stores
    the figures of hours that became settled, so each is aggregated once."""

    permission_classes = [IsAdmin]

    @extend_schema(operation_id="stats_today", responses=StatsTodayOutputSerializer)
    def get(self, request):
        stats, newly_settled = selectors.stats_today()
        services.settled_hours_store(figures=newly_settled)
        return Response(StatsTodayOutputSerializer(stats).data)
