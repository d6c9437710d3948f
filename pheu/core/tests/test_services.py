from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from pheu.core.models import WorkerHeartbeat
from pheu.core.services import forget_worker, prune_old_records, record_worker_heartbeat
from pheu.core.tasks import prune_old_records_task

pytestmark = pytest.mark.django_db


def make_result(*, status: str, finished_days_ago: float | None) -> DBTaskResult:
    finished = None if finished_days_ago is None else timezone.now() - timedelta(days=finished_days_ago)
    return DBTaskResult.objects.create(
        status=status,
        finished_at=finished,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="pheu.core.tasks.prune_old_records_task",
        backend_name="default",
    )


def test_prune_deletes_only_old_finished_results_and_old_heartbeats():
    old_ok = make_result(status="SUCCESSFUL", finished_days_ago=20)
    old_failed = make_result(status="FAILED", finished_days_ago=15)
    recent = make_result(status="SUCCESSFUL", finished_days_ago=2)
    waiting = make_result(status="READY", finished_days_ago=None)
    WorkerHeartbeat.objects.create(name="gone:1", seen_at=timezone.now() - timedelta(days=30))
    WorkerHeartbeat.objects.create(name="alive:2", seen_at=timezone.now())

    result = prune_old_records(keep_days=14)

    assert (result.task_results, result.heartbeats) == (2, 1)
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not DBTaskResult.objects.filter(pk__in=[old_ok.pk, old_failed.pk]).exists()
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["alive:2"]


def test_prune_task_is_idempotent():
    make_result(status="SUCCESSFUL", finished_days_ago=20)
    assert prune_old_records_task.enqueue().return_value == {
        "task_results": 1,
        "heartbeats": 0,
        "counters": 0,
    }
    assert prune_old_records_task.enqueue().return_value == {
        "task_results": 0,
        "heartbeats": 0,
        "counters": 0,
    }


def test_heartbeat_is_one_row_per_worker_updated_in_place():
    earlier = timezone.now() - timedelta(minutes=1)
    record_worker_heartbeat(name="host:7", now=earlier)
    record_worker_heartbeat(name="host:7")
    beat = WorkerHeartbeat.objects.get()
    assert beat.name == "host:7" and beat.seen_at > earlier
    forget_worker(name="host:7")
    assert not WorkerHeartbeat.objects.exists()
