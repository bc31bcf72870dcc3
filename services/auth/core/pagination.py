from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    """`{results, next, previous}` with `?cursor=` and `?page_size=` (max 100)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-date_joined", "-id")
