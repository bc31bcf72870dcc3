"""Base class for request bodies."""

from collections.abc import Mapping

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """Refuses fields it does not declare (400 with one error per unknown field): a typo or a field the
    client may not set (`user_id`, `roles`, `status`…) must never be accepted silently."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
