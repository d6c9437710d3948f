"""Writes shared by every app: a record's history (entries, changes, notes), the installation's settings, and
the worker's own bookkeeping."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from pheu.core.counters import prune_counters
from pheu.core.exceptions import PheuError
from pheu.core.history import Snapshot, diff, snapshot
from pheu.core.models import PREDICTIVE_FIELDS, HistoryEntry, HistoryKind, PheuSettings, WorkerHeartbeat
from pheu.core.rows import insert
from pheu.lib.html import sanitize_html
from pheu.lib.phones import is_supported_region, set_default_region


# --- a record's history (pheu.core.history) ----------------------------------------------------------
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
    """Append one entry to ``record``'s history (one INSERT, written once)."""
    entry = new_entry(record=record, kind=kind, author=author, body=body, changes=changes)
    insert(entry)
    return entry


def new_entry(
    *,
    record: models.Model,
    kind: str,
    author: Any = None,
    body: str = "",
    changes: list[dict[str, Any]] | None = None,
) -> HistoryEntry:
    """The unsaved entry :func:`log_entry` appends; ``record`` may be unsaved too (a lead creation inserts
    its entry with it: :func:`pheu.core.rows.insert_with` sets ``object_id``)."""
    return HistoryEntry(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        kind=kind,
        author=author if getattr(author, "is_authenticated", False) else None,
        body=body,
        changes=changes or [],
    )


def add_note(*, record: models.Model, author: Any, body: str) -> HistoryEntry:
    """Append a note (sanitised HTML) to ``record``'s history."""
    clean = sanitize_html(body).strip()
    if not clean:
        raise PheuError(field_errors={"body": [_("Write something first.")]})
    with transaction.atomic():
        return log_entry(record=record, kind=HistoryKind.NOTE, author=author, body=clean)


# --- the installation's settings (managers and administrators) -------------------------------------------
# What the settings page and `api/v1/settings/` change. The rest of PheuSettings is kept by Pheu itself
# (stamps, trained weights).
SETTINGS_FIELDS: tuple[str, ...] = (
    "use_leads",
    "realtime_assignment",
    "merge_duplicates_on_assignment",
    "confirm_marks_won",
    "currency",
    "phone_region",
    "predictive_fields",
    "probability_follows_prediction",
    "duplicate_show_threshold",
    "duplicate_merge_threshold",
)

# Called after a change of the settings, in its transaction, with the settings before and after: apps
# that keep something derived from them (the scoring app's model version) register here, as core may not
# import them.
SettingsListener = Callable[[PheuSettings, PheuSettings], None]
_SETTINGS_LISTENERS: dict[str, SettingsListener] = {}


def register_settings_listener(name: str, listener: SettingsListener) -> None:
    _SETTINGS_LISTENERS[name] = listener


def _settings_errors(values: Mapping[str, Any], merged: PheuSettings) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    fields = values.get("predictive_fields")
    if fields is not None:
        if not isinstance(fields, list | tuple) or not all(isinstance(name, str) for name in fields):
            errors["predictive_fields"] = [_("Give a list of variable names.")]
        elif unknown := [name for name in fields if name not in PREDICTIVE_FIELDS]:
            errors["predictive_fields"] = [_("Unknown variables: %(names)s.") % {"names": ", ".join(unknown)}]
    region = values.get("phone_region")
    if region is not None and not (isinstance(region, str) and is_supported_region(region)):
        errors["phone_region"] = [_("Not a country code with phone numbers (e.g. VN).")]
    for name in ("duplicate_show_threshold", "duplicate_merge_threshold"):
        value = getattr(merged, name)
        if not isinstance(value, int) or not 1 <= value <= 100:
            errors[name] = [_("A percentage between 1 and 100.")]
    if not errors and merged.duplicate_merge_threshold < merged.duplicate_show_threshold:
        message = _("The merge threshold cannot be below the “show as similar” threshold.")
        errors["duplicate_merge_threshold"] = [message]
    return errors


def update_settings(*, actor: Any, values: Mapping[str, Any]) -> PheuSettings:
    """Change the installation's settings (``SETTINGS_FIELDS``; others are refused). Sales managers and
    administrators only. The predictive model's variables are kept in their canonical order; a change of
    them or of "probability follows the prediction" has every open record predicted again (the scoring
    app's listener). A new ``phone_region`` applies to the numbers typed from then on (records keep their
    keys). The settings row is locked, so two changes at once apply one after the other."""
    if not getattr(actor, "manages_configuration", False):
        raise PheuError(
            _("Only sales managers and administrators change the settings."), code=PheuError.Code.FORBIDDEN
        )
    unknown = [name for name in values if name not in SETTINGS_FIELDS]
    if unknown:
        raise PheuError(field_errors={name: [_("This setting cannot be changed here.")] for name in unknown})
    with transaction.atomic():
        PheuSettings.load()
        current = PheuSettings.objects.select_for_update().get(pk=1)
        before = PheuSettings(**{f.attname: getattr(current, f.attname) for f in PheuSettings._meta.fields})
        for name, value in values.items():
            if name == "predictive_fields" and isinstance(value, list | tuple):
                value = [field for field in PREDICTIVE_FIELDS if field in value]
            elif name == "phone_region" and isinstance(value, str):
                value = value.strip().upper()
            setattr(current, name, value)
        errors = _settings_errors(values, current)
        if errors:
            raise PheuError(field_errors=errors)
        current.save(update_fields=[*values, "updated_at"])
        for listener in _SETTINGS_LISTENERS.values():
            listener(before, current)
        # This process reads numbers in the new region from the commit on (others at their next read of the
        # settings); records keep the keys they have.
        transaction.on_commit(lambda: set_default_region(current.phone_region))
    return current


def record_worker_heartbeat(*, name: str, now: datetime | None = None) -> None:
    """Note that the worker ``name`` (``host:pid``) is alive now (read by ``/healthz``)."""
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"seen_at": now or timezone.now()})


def forget_worker(*, name: str) -> None:
    """Remove the heartbeat of a worker that stops cleanly, so that ``/healthz`` does not count it."""
    WorkerHeartbeat.objects.filter(name=name).delete()


@dataclass(frozen=True)
class PruneResult:
    task_results: int
    heartbeats: int
    counters: int = 0


def prune_old_records(*, keep_days: int = 14, now: datetime | None = None) -> PruneResult:
    """Delete finished background-task results and worker heartbeats older than ``keep_days``, and the
    rate-limit counts of windows that have ended.

    Results still queued or running are never touched; a heartbeat that old belongs to a worker long gone.
    """
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    with transaction.atomic():
        results, _detail = DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
        heartbeats, _detail = WorkerHeartbeat.objects.filter(seen_at__lte=cutoff).delete()
        counters = prune_counters(now=now)
    return PruneResult(task_results=results, heartbeats=heartbeats, counters=counters)
