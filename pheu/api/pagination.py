from __future__ import annotations

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M`` (at most 500 a page); the body carries ``count``, ``next``, ``previous``."""

    page_size_query_param = "page_size"
    max_page_size = 500
