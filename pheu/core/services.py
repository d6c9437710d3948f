"""Writes shared by every app: notes in a record's history."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from pheu.core.exceptions import PheuError
from pheu.core.history import log_entry
from pheu.core.models import HistoryEntry, HistoryKind
from pheu.lib.html import sanitize_html


def add_note(*, record: models.Model, author: Any, body: str) -> HistoryEntry:
    """Append a note (sanitised HTML) to ``record``'s history."""
    clean = sanitize_html(body).strip()
    if not clean:
        raise PheuError(field_errors={"body": [_("Write something first.")]})
    with transaction.atomic():
        return log_entry(record=record, kind=HistoryKind.NOTE, author=author, body=clean)
