"""The one history (chatter) mechanism: snapshot the tracked fields, save, log what changed.

Usage in a service::

    before = snapshot(lead, TRACKED_FIELDS)
    ... change and save the lead ...
    log_changes(record=lead, before=before, fields=TRACKED_FIELDS, author=user)

Relation values are stored as their display name *and* id, so history still reads correctly after the
related record is renamed or removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from pheu.core.models import HistoryEntry, HistoryKind

Snapshot = dict[str, tuple[Any, Any]]  # field → (display value, id or raw value)


def _value(record: models.Model, field_name: str) -> tuple[Any, Any]:
    field = record._meta.get_field(field_name)
    if isinstance(field, models.ForeignKey):
        related_id = getattr(record, field.attname)
        if related_id is None:
            return None, None
        related = getattr(record, field_name)
        return str(related), related_id
    value = getattr(record, field_name)
    if isinstance(value, Decimal):
        value = format(value.normalize(), "f") if value == value.to_integral() else str(value)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    return value, value


def snapshot(record: models.Model, fields: Iterable[str]) -> Snapshot:
    """The current values of ``fields`` on ``record`` (use before changing it)."""
    return {name: _value(record, name) for name in fields}


def diff(before: Snapshot, after: Snapshot) -> list[dict[str, Any]]:
    """The changes between two snapshots, in field order."""
    changes = []
    for name, (old, old_id) in before.items():
        new, new_id = after[name]
        if old_id != new_id:
            changes.append({"field": name, "old": old, "new": new, "old_id": old_id, "new_id": new_id})
    return changes


def log_changes(
    *, record: models.Model, before: Snapshot, fields: Sequence[str], author: Any = None, body: str = ""
) -> HistoryEntry | None:
    """Record the tracked changes made to ``record`` since ``before``; nothing when none changed."""
    changes = diff(before, snapshot(record, fields))
    if not changes:
        return None
    return log_entry(record=record, kind=HistoryKind.CHANGE, author=author, body=body, changes=changes)


def log_entry(
    *,
    record: models.Model,
    kind: str,
    author: Any = None,
    body: str = "",
    changes: list[dict[str, Any]] | None = None,
) -> HistoryEntry:
    """Append one entry to ``record``'s history."""
    return HistoryEntry.objects.create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        kind=kind,
        author=author if getattr(author, "is_authenticated", False) else None,
        body=body,
        changes=changes or [],
    )


def history_of(record: models.Model) -> models.QuerySet[HistoryEntry]:
    """The record's history, newest first, with authors loaded."""
    return HistoryEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("author", "content_type")
