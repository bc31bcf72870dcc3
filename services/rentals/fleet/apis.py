import functools

from core.pagination import keyset_paginate, paginated_serializer
from core.permissions import IsAdmin, IsAdminOrReadOnly
from core.schema import IDEMPOTENCY_KEY
from core.serializers import StrictInputSerializer
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from idempotency.apis import idempotent_response
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from fleet import selectors, services
from fleet.models import BikeCondition, BikeStatus, ConditionSource

PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="Opaque cursor from `next`/`previous`."),
    OpenApiParameter(
        "page_size", {"type": "integer", "minimum": 1, "maximum": 100}, description="1-100, default 20."
    ),
]


def _validated(serializer_class, data, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class MoneyCurrencyField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(r"^[A-Z]{3}$", max_length=3, **kwargs)


# ----- bikes -----


class BikeOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    model = serializers.CharField()
    status = serializers.ChoiceField(choices=BikeStatus.choices)
    condition = serializers.ChoiceField(choices=BikeCondition.choices)
    station_id = serializers.UUIDField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)


def bike_rows_output(rows: list[dict]) -> list[dict]:
    """`BikeOutputSerializer(many=True).data` for rows of `selectors.bike_page` (ids already text), without
    DRF's per-field machinery: the hot list page (BENCHMARKS.md, S1) spent 0.7 ms of its ~4 ms there."""
    return [
        {
            "id": row["id"],
            "number": row["number"],
            "model": row["model"],
            "status": row["status"],
            "condition": row["condition"],
            "station_id": row["station_id"],
            "lat": row["lat"],
            "lon": row["lon"],
        }
        for row in rows
    ]


class BikeListApi(APIView):
    permission_classes = [IsAdminOrReadOnly]
    problem_codes = {"POST": ["409"]}

    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False)
        condition = serializers.CharField(required=False)
        station_id = serializers.UUIDField(required=False)
        lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
        lon = serializers.FloatField(required=False, min_value=-180, max_value=180)

        def validate_status(self, value):
            statuses = [item.strip() for item in value.split(",") if item.strip()]
            bad = [item for item in statuses if item not in BikeStatus.values]
            if bad or not statuses:
                raise serializers.ValidationError(
                    f"Allowed: {', '.join(BikeStatus.values)} (comma separated)."
                )
            return statuses

        def validate_condition(self, value):
            conditions = [item.strip() for item in value.split(",") if item.strip()]
            bad = [item for item in conditions if item not in BikeCondition.values]
            if bad or not conditions:
                raise serializers.ValidationError(
                    f"Allowed: {', '.join(BikeCondition.values)} (comma separated)."
                )
            return conditions

        def validate(self, attrs):
            if ("lat" in attrs) != ("lon" in attrs):
                raise serializers.ValidationError({"lat": ["Give both lat and lon."]})
            return attrs

    class InputSerializer(StrictInputSerializer):
        number = serializers.CharField(max_length=32)
        model = serializers.CharField(max_length=100)
        station_id = serializers.UUIDField(required=False, allow_null=True)
        lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
        lon = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
        status = serializers.ChoiceField(
            choices=[BikeStatus.AVAILABLE, BikeStatus.MAINTENANCE],
            required=False,
            default=BikeStatus.AVAILABLE,
        )

    @extend_schema(
        operation_id="bikes_list",
        parameters=[
            OpenApiParameter("status", str, description="Comma list of statuses; default `available`."),
            OpenApiParameter(
                "condition",
                str,
                description="Comma list of conditions; default `ok` (bikes riders can take).",
            ),
            OpenApiParameter("station_id", {"type": "string", "format": "uuid"}),
            OpenApiParameter(
                "lat",
                {"type": "number", "minimum": -90, "maximum": 90},
                description="With `lon`: nearest bikes first.",
            ),
            OpenApiParameter("lon", {"type": "number", "minimum": -180, "maximum": 180}),
            *PAGE_PARAMS,
        ],
        responses=paginated_serializer(BikeOutputSerializer, "BikePage"),
    )
    def get(self, request):
        filters = _validated(self.FilterSerializer, request.query_params) if request.query_params else {}
        near = (filters["lat"], filters["lon"]) if "lat" in filters else None
        page = keyset_paginate(
            request=request,
            ordering=selectors.bike_list_ordering(near=near),
            fetch=functools.partial(
                selectors.bike_page,
                statuses=filters.get("status"),
                conditions=filters.get("condition"),
                station_id=filters.get("station_id"),
                near=near,
            ),
            serialize=bike_rows_output,
        )
        return Response(page)

    @extend_schema(
        operation_id="bikes_create",
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: BikeOutputSerializer},
    )
    def post(self, request):
        def handler():
            data = _validated(self.InputSerializer, request.data)
            bike = services.bike_create(**data)
            return status.HTTP_201_CREATED, BikeOutputSerializer(bike).data

        return idempotent_response(request=request, handler=handler)


class BikeDetailApi(APIView):
    permission_classes = [IsAdminOrReadOnly]
    problem_codes = {"PATCH": ["409"], "DELETE": ["409"]}

    class InputSerializer(StrictInputSerializer):
        number = serializers.CharField(max_length=32, required=False)
        model = serializers.CharField(max_length=100, required=False)
        station_id = serializers.UUIDField(required=False, allow_null=True)
        lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
        lon = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
        status = serializers.ChoiceField(
            choices=[BikeStatus.AVAILABLE, BikeStatus.MAINTENANCE], required=False
        )

    @extend_schema(operation_id="bikes_retrieve", responses=BikeOutputSerializer)
    def get(self, request, bike_id):
        return Response(BikeOutputSerializer(selectors.bike_get(bike_id=bike_id)).data)

    @extend_schema(operation_id="bikes_update", request=InputSerializer, responses=BikeOutputSerializer)
    def patch(self, request, bike_id):
        data = _validated(self.InputSerializer, request.data, partial=True)
        return Response(BikeOutputSerializer(services.bike_update(bike_id=bike_id, data=data)).data)

    @extend_schema(
        operation_id="bikes_retire",
        description="Retires the bike (kept for history). 409 while it is rented or reserved.",
        responses={200: BikeOutputSerializer},
    )
    def delete(self, request, bike_id):
        return Response(BikeOutputSerializer(services.bike_retire(bike_id=bike_id)).data)


class BikeConditionChangeOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    from_condition = serializers.ChoiceField(choices=BikeCondition.choices)
    to_condition = serializers.ChoiceField(choices=BikeCondition.choices)
    reason = serializers.CharField()
    source = serializers.ChoiceField(choices=ConditionSource.choices)
    changed_by = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


class BikeConditionOutputSerializer(serializers.Serializer):
    bike_id = serializers.UUIDField()
    condition = serializers.ChoiceField(choices=BikeCondition.choices)
    history = BikeConditionChangeOutputSerializer(many=True)


class BikeConditionApi(APIView):
    """Operators move a bike between conditions; only `ok` bikes are rented, reserved or listed."""

    permission_classes = [IsAdmin]
    problem_codes = {"POST": ["409"]}

    class InputSerializer(StrictInputSerializer):
        condition = serializers.ChoiceField(choices=BikeCondition.choices)
        reason = serializers.CharField(max_length=500)

    @staticmethod
    def _output(bike_id) -> dict:
        bike, history = selectors.bike_condition_history(bike_id=bike_id)
        return BikeConditionOutputSerializer(
            {"bike_id": bike.id, "condition": bike.condition, "history": history}
        ).data

    @extend_schema(operation_id="bikes_condition_retrieve", responses=BikeConditionOutputSerializer)
    def get(self, request, bike_id):
        return Response(self._output(bike_id))

    @extend_schema(
        operation_id="bikes_condition_set",
        description="Move the bike to another condition with a reason (kept in its history). "
        "409 when the bike is retired or already in that condition.",
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={200: BikeConditionOutputSerializer},
    )
    def post(self, request, bike_id):
        def handler():
            data = _validated(self.InputSerializer, request.data)
            services.bike_condition_set(bike_id=bike_id, changed_by=request.user.id, **data)
            return status.HTTP_200_OK, self._output(bike_id)

        return idempotent_response(request=request, handler=handler)


# ----- stations -----


class StationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    capacity = serializers.IntegerField()
    is_active = serializers.BooleanField()
    available_bikes = serializers.IntegerField()
    free_docks = serializers.SerializerMethodField()

    def get_free_docks(self, station) -> int:
        return max(0, station.capacity - getattr(station, "docked_bikes", 0))


def _station_out(station_id) -> dict:
    return StationOutputSerializer(selectors.station_get(station_id=station_id)).data


class StationListApi(APIView):
    permission_classes = [IsAdminOrReadOnly]
    problem_codes = {"POST": ["409"]}

    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=200)
        lat = serializers.FloatField(min_value=-90, max_value=90)
        lon = serializers.FloatField(min_value=-180, max_value=180)
        capacity = serializers.IntegerField(min_value=0, max_value=10000)

    class FilterSerializer(serializers.Serializer):
        include_inactive = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="stations_list",
        parameters=[
            OpenApiParameter(
                "include_inactive",
                bool,
                description="Admins only (ignored for riders): closed and retired stations too.",
            ),
            *PAGE_PARAMS,
        ],
        responses=paginated_serializer(StationOutputSerializer, "StationPage"),
    )
    def get(self, request):
        filters = _validated(self.FilterSerializer, request.query_params)
        queryset, ordering = selectors.station_list(
            include_inactive=filters["include_inactive"] and request.user.is_admin
        )
        return Response(
            keyset_paginate(
                request=request,
                queryset=queryset,
                ordering=ordering,
                serialize=lambda rows: StationOutputSerializer(rows, many=True).data,
            )
        )

    @extend_schema(
        operation_id="stations_create",
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: StationOutputSerializer},
    )
    def post(self, request):
        def handler():
            station = services.station_create(**_validated(self.InputSerializer, request.data))
            return status.HTTP_201_CREATED, _station_out(station.id)

        return idempotent_response(request=request, handler=handler)


class StationDetailApi(APIView):
    permission_classes = [IsAdminOrReadOnly]
    problem_codes = {"PATCH": ["409"], "DELETE": ["409"]}

    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=200, required=False)
        lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
        lon = serializers.FloatField(min_value=-180, max_value=180, required=False)
        capacity = serializers.IntegerField(min_value=0, max_value=10000, required=False)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(operation_id="stations_retrieve", responses=StationOutputSerializer)
    def get(self, request, station_id):
        return Response(_station_out(station_id))

    @extend_schema(operation_id="stations_update", request=InputSerializer, responses=StationOutputSerializer)
    def patch(self, request, station_id):
        data = _validated(self.InputSerializer, request.data, partial=True)
        services.station_update(station_id=station_id, data=data)
        return Response(_station_out(station_id))

    @extend_schema(
        operation_id="stations_retire",
        description="Retires the station; 409 while bikes are docked there.",
        responses={200: StationOutputSerializer},
    )
    def delete(self, request, station_id):
        services.station_retire(station_id=station_id)
        return Response(_station_out(station_id))


# ----- tariffs -----


class TariffOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    unlock_fee = serializers.IntegerField(help_text="Minor units.")
    price_per_minute = serializers.IntegerField(help_text="Minor units per started minute.")
    daily_cap = serializers.IntegerField(allow_null=True, help_text="Minor units per 24 h window, or null.")
    currency = serializers.CharField()
    is_active = serializers.BooleanField()
    valid_from = serializers.DateTimeField()


class TariffListApi(APIView):
    permission_classes = [IsAdminOrReadOnly]

    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=100)
        unlock_fee = serializers.IntegerField(min_value=0, max_value=10**9)
        price_per_minute = serializers.IntegerField(min_value=0, max_value=10**9)
        daily_cap = serializers.IntegerField(min_value=0, max_value=10**9, required=False, allow_null=True)
        currency = MoneyCurrencyField(required=False)
        valid_from = serializers.DateTimeField(required=False)

    @extend_schema(
        operation_id="tariffs_list",
        parameters=PAGE_PARAMS,
        responses=paginated_serializer(TariffOutputSerializer, "TariffPage"),
    )
    def get(self, request):
        queryset, ordering = selectors.tariff_list()
        return Response(
            keyset_paginate(
                request=request,
                queryset=queryset,
                ordering=ordering,
                serialize=lambda rows: TariffOutputSerializer(rows, many=True).data,
            )
        )

    @extend_schema(
        operation_id="tariffs_create",
        parameters=[IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: TariffOutputSerializer},
    )
    def post(self, request):
        def handler():
            data = _validated(self.InputSerializer, request.data)
            data.setdefault("currency", settings.DEFAULT_CURRENCY)
            tariff = services.tariff_create(**data)
            return status.HTTP_201_CREATED, TariffOutputSerializer(tariff).data

        return idempotent_response(request=request, handler=handler)


class TariffDetailApi(APIView):
    permission_classes = [IsAdminOrReadOnly]

    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=100, required=False)
        unlock_fee = serializers.IntegerField(min_value=0, max_value=10**9, required=False)
        price_per_minute = serializers.IntegerField(min_value=0, max_value=10**9, required=False)
        daily_cap = serializers.IntegerField(min_value=0, max_value=10**9, required=False, allow_null=True)
        currency = MoneyCurrencyField(required=False)
        valid_from = serializers.DateTimeField(required=False)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(operation_id="tariffs_retrieve", responses=TariffOutputSerializer)
    def get(self, request, tariff_id):
        return Response(TariffOutputSerializer(selectors.tariff_get(tariff_id=tariff_id)).data)

    @extend_schema(operation_id="tariffs_update", request=InputSerializer, responses=TariffOutputSerializer)
    def patch(self, request, tariff_id):
        data = _validated(self.InputSerializer, request.data, partial=True)
        return Response(TariffOutputSerializer(services.tariff_update(tariff_id=tariff_id, data=data)).data)

    @extend_schema(operation_id="tariffs_retire", responses={200: TariffOutputSerializer})
    def delete(self, request, tariff_id):
        return Response(TariffOutputSerializer(services.tariff_retire(tariff_id=tariff_id)).data)
