from core.crud import CrudResource, crud_views
from core.localized import LocalizedTextSerializer, LocalizedUrlSerializer, localized_field
from core.serializers import StrictInputSerializer
from rest_framework import serializers

from alerts import selectors, services
from alerts.models import AlertType


class AlertTypeField(serializers.ChoiceField):
    """GBFS types; v3.0's lower-case spelling is accepted too."""

    def __init__(self, **kwargs):
        super().__init__(choices=AlertType.choices, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


class AlertOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    alert_type = serializers.ChoiceField(choices=AlertType.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    station_ids = serializers.ListField(child=serializers.UUIDField())
    summary = LocalizedTextSerializer(many=True)
    description = LocalizedTextSerializer(many=True)
    url = LocalizedUrlSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AlertCreateInputSerializer(StrictInputSerializer):
    alert_type = AlertTypeField()
    starts_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    station_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=1000)
    summary = localized_field()
    description = localized_field(required=False)
    url = localized_field(required=False, url=True)


class AlertUpdateInputSerializer(AlertCreateInputSerializer):
    alert_type = AlertTypeField(required=False)
    summary = localized_field(required=False)


ALERTS = CrudResource(
    name="alerts",
    label="alert",
    lookup="alert_id",
    output=AlertOutputSerializer,
    create_input=AlertCreateInputSerializer,
    update_input=AlertUpdateInputSerializer,
    list=selectors.alert_list,
    get=lambda pk: selectors.alert_get(alert_id=pk),
    create=lambda data: services.alert_create(**data),
    update=lambda pk, data: services.alert_update(alert_id=pk, data=data),
    delete=lambda pk: services.alert_delete(alert_id=pk),
    description="Service alerts (operators), published in GBFS system_alerts.json until they end.",
)
AlertListApi, AlertDetailApi = crud_views(ALERTS)
