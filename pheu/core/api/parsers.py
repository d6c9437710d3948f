"""The API's request parsers: DRF's, with the text of every body checked for control characters.

A JSON body may carry NUL (``"\\u0000"``), other control characters or a lone surrogate (``"\\ud800"``) in
any string — keys and the values of JSON fields included, where no serializer field looks. PostgreSQL
refuses NUL in a text, neither database encodes a lone surrogate, and no XLSX cell holds a control
character. Here, once for every resource: a NUL is refused — a 400 naming the field that holds it, as DRF's
own text fields answer — and the other control characters and lone surrogates are removed
(``pheu.lib.text.strip_control``). Uploaded files are read by the code that understands them (imports,
e-mails), which cleans their text.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from pheu.lib.text import strip_control


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _refuse_nul(fields: list[tuple[Any, Any]]) -> None:
    """A 400 naming each field (top-level key) whose value holds a NUL anywhere."""
    errors = {
        (strip_control(key) if isinstance(key, str) else "") or "non_field_errors": [
            str(ProhibitNullCharactersValidator.message)
        ]
        for key, value in fields
        if _has_nul(key) or _has_nul(value)
    }
    if errors:
        raise ValidationError(errors)


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
    _refuse_nul(list(data.lists()))
    cleaned = QueryDict(mutable=True)
    for key, values in data.lists():
        cleaned.setlist(strip_control(key), [strip_control(v) if isinstance(v, str) else v for v in values])
    cleaned._mutable = False
    return cleaned


# In JSON text a control character or a surrogate can only be written as an escape (a raw one is no valid
# JSON), so a UTF-8 body without such escapes holds none and is not walked: the walk of a 2 MB body of
# 100,000 terms costs a few hundred milliseconds. A body with zero bytes (UTF-16, UTF-32) is always walked.
_ESCAPES = re.compile(rb"\\(?:u00[01][0-9a-fA-F]|u[dD][89a-fA-F][0-9a-fA-F]{2}|[bf])")


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
            if b"\x00" not in raw and not _ESCAPES.search(raw):
                return data
            _refuse_nul(list(data.items()) if isinstance(data, dict) else [(None, data)])
            return clean(data)
        except RecursionError as exc:  # DRF turns a ValueError into a 400, not this
            raise ParseError(_("The JSON body is nested too deeply.")) from exc


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return _clean_query_dict(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        return parsers.DataAndFiles(_clean_query_dict(parsed.data), parsed.files)
