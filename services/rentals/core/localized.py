"""GBFS localized strings (`[{"text": …, "language": "en"}]`) as request fields."""

from rest_framework import serializers

LANGUAGE = r"^[a-z]{2,3}(-[A-Z]{2})?$"


class LocalizedTextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    language = serializers.RegexField(LANGUAGE, max_length=6, help_text="IETF BCP 47, e.g. `en`.")


class LocalizedUrlSerializer(serializers.Serializer):
    text = serializers.URLField(max_length=2000)
    language = serializers.RegexField(LANGUAGE, max_length=6, help_text="IETF BCP 47, e.g. `en`.")


def _one_per_language(items):
    languages = [item["language"] for item in items]
    if len(set(languages)) != len(languages):
        raise serializers.ValidationError("One text per language.")


def localized_field(*, required: bool = True, url: bool = False, **kwargs) -> serializers.ListField:
    """A list of translations (at most 10), at most one per language."""
    child = LocalizedUrlSerializer() if url else LocalizedTextSerializer()
    return serializers.ListField(
        child=child,
        required=required,
        allow_empty=not required,
        max_length=10,
        validators=[_one_per_language],
        **kwargs,
    )
