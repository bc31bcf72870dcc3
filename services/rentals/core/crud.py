"""One CRUD view pair for operator-managed fleet resources (service alerts, zones, …).

A resource declares its serializers and the selector/service functions; `crud_views` builds the list view
(GET page, POST create) and the detail view (GET, PATCH, DELETE), each operation annotated for OpenAPI on
its own function (extend_schema annotates the function object, so subclasses must not share one).
Views stay thin: validate, call one service or selector, serialize. Writes are operator-only; reads need
a token with the admin role too (operator data; the public sees the resources through GBFS)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from idempotency.apis import idempotent_response
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import keyset_paginate, paginated_serializer
from core.permissions import IsAdmin
from core.schema import IDEMPOTENCY_KEY

PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="Opaque cursor from `next`/`previous`."),
    OpenApiParameter(
        "page_size", {"type": "integer", "minimum": 1, "maximum": 100}, description="1-100, default 20."
    ),
]


@dataclass(frozen=True)
class CrudResource:
    """`name` is the plural path word (`alerts`), `label` the singular (`alert`), `lookup` the URL kwarg.
    `list` returns (queryset, keyset ordering); `get(pk)`, `create(data)`, `update(pk, data)`,
    `delete(pk)` raise the domain errors (NotFound, Conflict, ValidationFailed)."""

    name: str
    label: str
    lookup: str
    output: type[serializers.Serializer]
    create_input: type[serializers.Serializer]
    update_input: type[serializers.Serializer]
    list: Callable[[], tuple[Any, list[str]]]
    get: Callable[[Any], Any]
    create: Callable[[dict], Any]
    update: Callable[[Any, dict], Any]
    delete: Callable[[Any], None]
    description: str = ""


def _validated(serializer_class, data, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def crud_views(resource: CrudResource) -> tuple[Callable, Callable]:
    """(list view, detail view) for `resource`, ready for `path()`."""
    r = resource
    page = paginated_serializer(r.output, f"{r.label.title().replace('_', '')}Page")

    @extend_schema(
        operation_id=f"{r.name}_list", parameters=PAGE_PARAMS, responses=page, description=r.description
    )
    def list_get(self, request):
        queryset, ordering = r.list()
        return Response(
            keyset_paginate(
                request=request,
                queryset=queryset,
                ordering=ordering,
                serialize=lambda rows: r.output(rows, many=True).data,
            )
        )

    @extend_schema(
        operation_id=f"{r.name}_create",
        parameters=[IDEMPOTENCY_KEY],
        request=r.create_input,
        responses={201: r.output},
    )
    def list_post(self, request):
        def handler():
            created = r.create(_validated(r.create_input, request.data))
            return status.HTTP_201_CREATED, r.output(created).data

        return idempotent_response(request=request, handler=handler)

    @extend_schema(operation_id=f"{r.name}_retrieve", responses=r.output)
    def detail_get(self, request, **kwargs):
        return Response(r.output(r.get(kwargs[r.lookup])).data)

    @extend_schema(operation_id=f"{r.name}_update", request=r.update_input, responses=r.output)
    def detail_patch(self, request, **kwargs):
        data = _validated(r.update_input, request.data, partial=True)
        return Response(r.output(r.update(kwargs[r.lookup], data)).data)

    @extend_schema(operation_id=f"{r.name}_destroy", responses={204: None})
    def detail_delete(self, request, **kwargs):
        r.delete(kwargs[r.lookup])
        return Response(status=status.HTTP_204_NO_CONTENT)

    stem = r.label.title().replace("_", "")
    common = {"permission_classes": [IsAdmin], "__module__": __name__}
    list_view = type(
        f"{stem}ListApi",
        (APIView,),
        {**common, "get": list_get, "post": list_post, "problem_codes": {"POST": ["409"]}},
    )
    detail_view = type(
        f"{stem}DetailApi",
        (APIView,),
        {
            **common,
            "get": detail_get,
            "patch": detail_patch,
            "delete": detail_delete,
            "problem_codes": {"PATCH": ["409"], "DELETE": ["409"]},
        },
    )
    return list_view.as_view(), detail_view.as_view()
