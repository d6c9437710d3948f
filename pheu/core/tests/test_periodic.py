from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import task

from pheu.core import periodic
from pheu.core.models import PeriodicJob
from pheu.core.periodic import discover_periodic_jobs, enqueue_due_jobs, register_periodic

pytestmark = pytest.mark.django_db

RUNS: list[str] = []


@task()
def tick_task() -> None:
    RUNS.append("tick")


@task()
def other_task() -> None:
    RUNS.append("other")


class Unqueueable:
    """A task whose queue refuses it."""

    module_path = "pheu.core.tests.unqueueable"

    def enqueue(self) -> None:
        raise RuntimeError("queue unavailable")


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test (the apps' jobs are imported first, into the real one)."""
    discover_periodic_jobs()
    monkeypatch.setattr(periodic, "_REGISTRY", {})
    RUNS.clear()


def test_the_apps_register_their_periodic_jobs():
    jobs = {job.name: job for job in discover_periodic_jobs()}
    assert jobs["prune"].every == timedelta(days=1)
    assert jobs["prune"].task_path == "pheu.core.tasks.prune_old_records_task"


def test_a_job_is_due_at_once_then_once_per_period(registry):
    register_periodic("tick", timedelta(hours=1), tick_task)
    start = timezone.now()
    assert enqueue_due_jobs(now=start) == ["tick"]
    assert enqueue_due_jobs(now=start) == []  # a second worker at the same moment
    assert enqueue_due_jobs(now=start + timedelta(minutes=59)) == []
    assert enqueue_due_jobs(now=start + timedelta(minutes=60)) == ["tick"]
    assert RUNS == ["tick", "tick"]  # the immediate backend of the tests runs them at once
    assert PeriodicJob.objects.get(name="tick").last_enqueued_at == start + timedelta(minutes=60)


def test_a_failing_enqueue_is_retried_next_time_and_spares_the_other_jobs(registry):
    register_periodic("broken", timedelta(hours=1), Unqueueable())
    register_periodic("tick", timedelta(hours=1), tick_task)
    now = timezone.now()
    assert enqueue_due_jobs(now=now) == ["tick"]
    assert PeriodicJob.objects.get(name="broken").last_enqueued_at is None  # the claim was rolled back


def test_register_periodic_refuses_bad_periods_and_name_clashes(registry):
    with pytest.raises(ValueError, match="positive"):
        register_periodic("tick", timedelta(0), tick_task)
    register_periodic("tick", timedelta(hours=1), tick_task)
    register_periodic("tick", timedelta(hours=2), tick_task)  # a module imported twice
    assert periodic.registered_jobs()[0].every == timedelta(hours=2)
    with pytest.raises(ValueError, match="already registered"):
        register_periodic("tick", timedelta(hours=1), other_task)
