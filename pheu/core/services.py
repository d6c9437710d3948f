"""Writes shared by every app: notes in a record's history, and the worker's own bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from pheu.core.exceptions import PheuError
from pheu.core.history import log_entry
from pheu.core.models import HistoryEntry, HistoryKind, WorkerHeartbeat
from pheu.lib.html import sanitize_html


def add_note(*, record: models.Model, author: Any, body: str) -> HistoryEntry:
    """Append a note (sanitised HTML) to ``record``'s history."""
    clean = sanitize_html(body).strip()
    if not clean:
        raise PheuError(field_errors={"body": [_("Write something first.")]})
    with transaction.atomic():
        return log_entry(record=record, kind=HistoryKind.NOTE, author=author, body=clean)


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


def prune_old_records(*, keep_days: int = 14, now: datetime | None = None) -> PruneResult:
    """Delete finished background-task results and worker heartbeats older than ``keep_days``.

    Results still queued or running are never touched; a heartbeat that old belongs to a worker long gone.
    """
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    with transaction.atomic():
        results, _detail = DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
        heartbeats, _detail = WorkerHeartbeat.objects.filter(seen_at__lte=cutoff).delete()
    return PruneResult(task_results=results, heartbeats=heartbeats)
