from __future__ import annotations

import signal
import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django_tasks import task
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from pheu.core import periodic
from pheu.core.models import PeriodicJob, WorkerHeartbeat
from pheu.core.periodic import discover_periodic_jobs, register_periodic
from pheu.core.tests.processes import PHEU, process_env, read_rows, wait_for
from pheu.core.worker import worker_name

CALLS: list[str] = []


@task()
def record_call_task(label: str) -> str:
    CALLS.append(label)
    return label


@task()
def failing_task() -> None:
    raise ValueError("this task always fails")


@task()
def periodic_probe_task() -> str:
    CALLS.append("periodic")
    return "periodic"


@pytest.fixture
def database_tasks(settings, monkeypatch):
    """The real database queue, and a registry holding only the test's periodic jobs."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    # django_tasks_db's loop closes "old" connections between tasks, which inside the test's transaction
    # would close the test's own connection.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    discover_periodic_jobs()
    monkeypatch.setattr(periodic, "_REGISTRY", {})
    CALLS.clear()


@pytest.mark.django_db
def test_worker_once_runs_queued_tasks_and_due_periodic_jobs_and_beats(database_tasks):
    register_periodic("probe", timedelta(hours=1), periodic_probe_task)
    record_call_task.enqueue("queued")

    call_command("worker", "--once", stdout=StringIO())

    assert CALLS == ["queued", "periodic"]
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL", "SUCCESSFUL"]
    assert PeriodicJob.objects.get(name="probe").last_enqueued_at is not None
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == [worker_name()]

    call_command("worker", "--once", stdout=StringIO())  # within the period: nothing new
    assert CALLS == ["queued", "periodic"]
    assert DBTaskResult.objects.count() == 2


@pytest.mark.django_db
def test_worker_records_a_failing_task_and_goes_on(database_tasks):
    failing_task.enqueue()
    record_call_task.enqueue("after")
    call_command("worker", "--once", stdout=StringIO())
    results = dict(DBTaskResult.objects.values_list("task_path", "status"))
    assert results == {
        "pheu.core.tests.test_worker.failing_task": "FAILED",
        "pheu.core.tests.test_worker.record_call_task": "SUCCESSFUL",
    }
    assert CALLS == ["after"]


def test_worker_process_beats_then_stops_cleanly_on_sigterm(process_database: Path, tmp_path: Path):
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [*PHEU, "worker", "--interval", "0.2"],
        env=process_env(process_database, tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: read_rows(process_database, "SELECT name FROM core_workerheartbeat"),
            timeout=30,
            what="the worker's heartbeat",
        )
        # The prune job is due at once (it never ran): the scheduler enqueues it and the worker runs it
        # (beside the other apps' periodic jobs, due at once too).
        wait_for(
            lambda: (
                read_rows(
                    process_database,
                    "SELECT status FROM django_tasks_database_dbtaskresult "
                    "WHERE task_path = 'pheu.core.tasks.prune_old_records_task'",
                )
                == [("SUCCESSFUL",)]
            ),
            timeout=30,
            what="the prune job to run",
        )
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        log.close()
    assert read_rows(process_database, "SELECT name FROM core_workerheartbeat") == []
    assert read_rows(process_database, "SELECT name FROM core_periodicjob WHERE name = 'prune'") == [
        ("prune",)
    ]
    assert (
        read_rows(process_database, "SELECT name FROM core_periodicjob WHERE last_enqueued_at IS NULL") == []
    )
