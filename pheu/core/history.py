"""The one history (chatter) mechanism: snapshot the tracked fields, save, log what changed (the writes,
``log_changes`` and ``log_entry``, are services: :mod:`pheu.core.services`).

Usage in a service::

    before = snapshot(lead, TRACKED_FIELDS)
    ... change and save the lead ...
    log_changes(record=lead, before=before, fields=TRACKED_FIELDS, author=user)

Relation values are stored as their display name *and* id, so history still reads correctly after the
related record is renamed or removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
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


def history_of(record: models.Model) -> models.QuerySet[HistoryEntry]:
    """The entries stored for the record, newest first, with authors loaded."""
    return HistoryEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("author", "content_type")


# Changes that an app records in a table of its own, and that the record's history shows among its entries
# (a lead's assignment decisions): by model, functions that return them as unsaved entries (no ``pk``).
HistorySource = Callable[[Any], Iterable[HistoryEntry]]  # takes a record of the model it is registered for
_SOURCES: dict[type[models.Model], list[HistorySource]] = {}


def register_history_source(model: type[models.Model], source: HistorySource) -> None:
    """Show what ``source(record)`` returns in the history of each ``model`` record (from ready())."""
    if source not in _SOURCES.setdefault(model, []):
        _SOURCES[model].append(source)


def _name_the_creation(record: models.Model, entries: list[HistoryEntry]) -> None:
    """For a record with a ``type`` (a lead or an opportunity), the "created" entry names what was created:
    the type before its first change of type (a lead converted later was created a lead), else the record's
    type now. Read from the entries at hand: no query."""
    try:
        field = record._meta.get_field("type")
    except FieldDoesNotExist:
        return
    choices = dict(getattr(field, "flatchoices", None) or [])
    if not choices:
        return
    changes = [c for e in reversed(entries) for c in e.changes if c.get("field") == "type"]  # oldest first
    created_as = changes[0].get("old_id", changes[0].get("old")) if changes else getattr(record, "type", None)
    if created_as in choices:
        for entry in entries:
            if entry.kind == HistoryKind.CREATED:
                entry.created_as = choices[created_as]


def timeline_of(record: models.Model) -> list[HistoryEntry]:
    """The record's whole history, newest first: its stored entries and those its apps' sources derive.

    At the same moment, a derived entry comes after (above) the stored ones: it records what was done to
    the record once it existed, such as the assignment of a lead on its creation."""
    entries = list(history_of(record))
    _name_the_creation(record, entries)
    concrete = record._meta.concrete_model
    assert (
        concrete is not None
    )  # set on every model class (None only on an abstract one, never an instance's)
    derived = [e for source in _SOURCES.get(concrete, []) for e in source(record)]
    if not derived:
        return entries
    return sorted(entries + derived, key=lambda e: (e.created_at, e.pk is None, e.pk or 0), reverse=True)
