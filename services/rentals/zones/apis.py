from core.crud import CrudResource, crud_views
from core.serializers import StrictInputSerializer
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from zones import selectors, services

MULTIPOLYGON_SCHEMA = {
    "type": "object",
    "description": "GeoJSON MultiPolygon in WGS84 ([longitude, latitude] positions, closed rings).",
    "properties": {
        "type": {"type": "string", "enum": ["MultiPolygon"]},
        "coordinates": {
            "type": "array",
            "items": {
                "type": "array",
                "items": {
                    "type": "array",
                    "minItems": 4,
                    "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
                },
            },
        },
    },
    "required": ["type", "coordinates"],
}


@extend_schema_field(MULTIPOLYGON_SCHEMA)
class MultiPolygonField(serializers.JSONField):
    """Checked by the service (zones.geometry.multipolygon_clean): 400 with `errors.geometry`."""


class ZoneOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    geometry = MultiPolygonField()
    ride_allowed = serializers.BooleanField()
    ride_through_allowed = serializers.BooleanField()
    parking_allowed = serializers.BooleanField()
    maximum_speed_kph = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ZoneCreateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    geometry = MultiPolygonField()
    ride_allowed = serializers.BooleanField(required=False, default=True)
    ride_through_allowed = serializers.BooleanField(required=False, default=True)
    parking_allowed = serializers.BooleanField(
        required=False, default=True, help_text="False: a rental may end here only at a station."
    )
    maximum_speed_kph = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=200)


class ZoneUpdateInputSerializer(ZoneCreateInputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    geometry = MultiPolygonField(required=False)
    ride_allowed = serializers.BooleanField(required=False)
    ride_through_allowed = serializers.BooleanField(required=False)
    parking_allowed = serializers.BooleanField(required=False)


ZONES = CrudResource(
    name="zones",
    label="zone",
    lookup="zone_id",
    output=ZoneOutputSerializer,
    create_input=ZoneCreateInputSerializer,
    update_input=ZoneUpdateInputSerializer,
    list=selectors.zone_list,
    get=lambda pk: selectors.zone_get(zone_id=pk),
    create=lambda data: services.zone_create(**data),
    update=lambda pk, data: services.zone_update(zone_id=pk, data=data),
    delete=lambda pk: services.zone_delete(zone_id=pk),
    description="Geofencing zones (operators), published in GBFS geofencing_zones.json.",
)
ZoneListApi, ZoneDetailApi = crud_views(ZONES)
