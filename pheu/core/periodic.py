"""Periodic jobs: a registry filled by the apps' ``tasks`` modules, and the scheduling step the worker runs.

An app registers its jobs next to its tasks, at import time of its ``tasks.py``::

    register_periodic("prune", timedelta(days=1), prune_old_records_task)

``pheu worker`` imports every installed app's ``tasks`` module (:func:`discover_periodic_jobs`) and calls
:func:`enqueue_due_jobs` every few seconds. A job is due when its period has passed since it was last
enqueued — by any worker: the time is kept in the ``PeriodicJob`` table and claimed with one conditional
UPDATE, so several workers never enqueue a job twice for one period, and a restart neither skips a job nor
runs it early. A job never enqueued before is due at once. Periodic tasks take no arguments and, like every
task, are idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from pheu.core.models import PeriodicJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicSpec:
    """A task to enqueue every ``every``."""

    name: str
    every: timedelta
    task: Any  # a django_tasks Task taking no arguments

    @property
    def task_path(self) -> str:
        return str(self.task.module_path)


_REGISTRY: dict[str, PeriodicSpec] = {}


def register_periodic(name: str, every: timedelta, task: Any) -> PeriodicSpec:
    """Register ``task`` to be enqueued every ``every`` under the unique ``name``.

    Registering the same name again with the same task replaces the period (modules may be imported twice);
    with another task it is a programming error.
    """
    if every <= timedelta(0):
        raise ValueError(f"periodic job {name!r}: the period must be positive, not {every}")
    if len(name) > PeriodicJob._meta.get_field("name").max_length:  # type: ignore[operator]  # a CharField: max_length is set
        raise ValueError(f"periodic job {name!r}: the name is too long")
    spec = PeriodicSpec(name=name, every=every, task=task)
    existing = _REGISTRY.get(name)
    if existing is not None and existing.task_path != spec.task_path:
        raise ValueError(f"periodic job {name!r} is already registered for {existing.task_path}")
    _REGISTRY[name] = spec
    return spec


def registered_jobs() -> list[PeriodicSpec]:
    """The registered jobs, by name."""
    return sorted(_REGISTRY.values(), key=lambda spec: spec.name)


def discover_periodic_jobs() -> list[PeriodicSpec]:
    """Import every installed app's ``tasks`` module (which registers its jobs) and return the jobs."""
    autodiscover_modules("tasks")
    return registered_jobs()


def enqueue_due_jobs(*, now: datetime | None = None, jobs: Iterable[PeriodicSpec] | None = None) -> list[str]:
    """Enqueue each job whose period has passed since it was last enqueued; return the names enqueued.

    The claim and the enqueue share one transaction: with the database task backend, either both are
    stored or neither is. A job whose enqueue fails is logged and retried on the next call.
    """
    now = now or timezone.now()
    jobs = registered_jobs() if jobs is None else list(jobs)
    if not jobs:
        return []
    PeriodicJob.objects.bulk_create([PeriodicJob(name=job.name) for job in jobs], ignore_conflicts=True)
    enqueued = []
    for job in jobs:
        try:
            with transaction.atomic():
                claimed = (
                    PeriodicJob.objects.filter(name=job.name)
                    .filter(Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lte=now - job.every))
                    .update(last_enqueued_at=now)
                )
                if claimed:
                    job.task.enqueue()
        except Exception:  # one broken job must not stop the others nor the worker
            logger.exception("periodic job %s could not be enqueued", job.name)
            continue
        if claimed:
            logger.info("periodic job %s enqueued", job.name)
            enqueued.append(job.name)
    return enqueued
