"""Keyset (cursor) pagination: stable under inserts, O(page) at any depth. Shape {results, next, previous}."""

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from rest_framework import serializers
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.exceptions import ValidationFailed

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return value


def _encode(values: list[Any], direction: str) -> str:
    raw = json.dumps({"v": [_jsonable(v) for v in values], "d": direction}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, width: int) -> tuple[list[Any], str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        values, direction = data["v"], data["d"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("Invalid cursor.", errors={"cursor": ["Invalid cursor."]})
    if not isinstance(values, list) or len(values) != width or direction not in ("n", "p"):
        raise ValidationFailed("Invalid cursor.", errors={"cursor": ["Invalid cursor."]})
    return values, direction


def _after(ordering: Sequence[str], values: list[Any], *, reverse: bool) -> Q:
    """Rows strictly after `values` in `ordering` (or strictly before when reverse)."""
    condition = Q()
    for index, term in enumerate(ordering):
        field, descending = term.lstrip("-"), term.startswith("-")
        greater = descending == reverse
        clause = Q(**{f"{field}__{'gt' if greater else 'lt'}": values[index]})
        for prev_term, prev_value in zip(ordering[:index], values[:index], strict=True):
            clause &= Q(**{prev_term.lstrip("-"): prev_value})
        condition |= clause
    if len(ordering) > 1 and values[0] is not None:
        # Logically redundant, but it gives PostgreSQL an index range on the first column: without it an
        # OR of row comparisons made deep pages scan from the start (58 ms → 0.3 ms at 1M rentals).
        first, descending = ordering[0].lstrip("-"), ordering[0].startswith("-")
        condition &= Q(**{f"{first}__{'gte' if descending == reverse else 'lte'}": values[0]})
    return condition


def _flip(term: str) -> str:
    return term[1:] if term.startswith("-") else "-" + term


def page_size_from(request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationFailed(
            "Invalid page_size.", errors={"page_size": [f"Must be an integer from 1 to {MAX_PAGE_SIZE}."]}
        )
    return size


def queryset_fetch(queryset: QuerySet, ordering: Sequence[str]) -> Callable[..., list[Any]]:
    """A `fetch` for `keyset_paginate` over a queryset: rows strictly after (before, when `reverse`) the
    key `after`, in `ordering` (flipped when `reverse`), at most `limit` of them."""

    def fetch(*, after: list[Any] | None, reverse: bool, limit: int) -> list[Any]:
        query = queryset
        if after is not None:
            query = query.filter(_after(ordering, after, reverse=reverse))
        order = [_flip(t) for t in ordering] if reverse else list(ordering)
        return list(query.order_by(*order)[:limit])

    return fetch


def keyset_paginate(
    *,
    request,
    ordering: Sequence[str],
    serialize: Callable[[list[Any]], Any],
    queryset: QuerySet | None = None,
    fetch: Callable[..., list[Any]] | None = None,
) -> dict[str, Any]:
    """`ordering` must end with a unique, non-null field (e.g. "id") so the order is total. Rows come
    from `queryset`, or from `fetch(after=key | None, reverse=bool, limit=int)` for a hand-written query
    (the key is a client's cursor: `fetch` raises ValueError or TypeError for a value of the wrong type)."""
    if (queryset is None) == (fetch is None):
        raise TypeError("keyset_paginate needs a queryset or a fetch, not both")
    if fetch is None:
        fetch = queryset_fetch(queryset, ordering)
    size = page_size_from(request)
    cursor = request.query_params.get("cursor")
    direction = "n"
    values: list[Any] = []
    if cursor:
        values, direction = _decode(cursor, len(ordering))
    try:
        rows = fetch(after=values if cursor else None, reverse=direction == "p", limit=size + 1)
    except (DjangoValidationError, ValueError, TypeError):  # a forged cursor value of the wrong type
        raise ValidationFailed("Invalid cursor.", errors={"cursor": ["Invalid cursor."]})
    has_more = len(rows) > size
    rows = rows[:size]
    if direction == "p":
        rows.reverse()

    def key(row) -> list[Any]:  # a model instance, or a dict from `.values()` / a fetch
        if isinstance(row, dict):
            return [row[term.lstrip("-")] for term in ordering]
        return [getattr(row, term.lstrip("-")) for term in ordering]

    url = request.build_absolute_uri()
    next_url = previous_url = None
    if rows:
        if (direction == "n" and has_more) or (direction == "p" and cursor):
            next_url = replace_query_param(url, "cursor", _encode(key(rows[-1]), "n"))
        if (direction == "n" and cursor) or (direction == "p" and has_more):
            previous_url = replace_query_param(url, "cursor", _encode(key(rows[0]), "p"))
    elif cursor:
        previous_url = remove_query_param(url, "cursor")
    return {"results": serialize(rows), "next": next_url, "previous": previous_url}


def paginated_serializer(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """OpenAPI shape of a page of `item`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "results": item(many=True),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
        },
    )
