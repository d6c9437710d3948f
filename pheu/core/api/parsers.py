"""The API's request parsers: DRF's, with every text of the body cleaned of control characters.

A JSON body may carry NUL (``"\\u0000"``) or a lone surrogate (``"\\ud800"``) in any string, keys and the
values of JSON fields included: PostgreSQL refuses the first, neither database encodes the second. They
are removed here, once for every resource (``pheu.lib.text.strip_control``), rather than by each serializer.
Uploaded files are read by the code that understands them (imports, e-mails), which cleans their text.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import parsers

from pheu.lib.text import strip_control


def clean(value: Any) -> Any:
    """``value`` with every string in it (at any depth, keys too) stripped of control characters."""
    if isinstance(value, str):
        return strip_control(value)
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def _clean_query_dict(data: QueryDict) -> QueryDict:
    cleaned = QueryDict(mutable=True)
    for key, values in data.lists():
        cleaned.setlist(strip_control(key), [strip_control(v) if isinstance(v, str) else v for v in values])
    cleaned._mutable = False
    return cleaned


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return clean(super().parse(stream, media_type, parser_context))


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return _clean_query_dict(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        return parsers.DataAndFiles(_clean_query_dict(parsed.data), parsed.files)
