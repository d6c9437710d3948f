"""The worker killed mid-job (SPEC 14), on the database queue: the job runs again, once — another worker (or
the same one restarted) puts it back in the queue when it sees that the worker running it is gone; a job
whose second worker died too is marked failed rather than tried for ever. (The Redis queue has its own.)"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from pheu.core.tests.processes import PHEU, process_env, read_rows, wait_for
from pheu.core.worker import requeue_orphaned_tasks, worker_name


@task()
def slow_job_task(folder: str) -> str:
    """Writes a line per run; blocks while ``folder/block`` exists (so that its worker can be killed)."""
    import time

    base = Path(folder)
    with (base / "runs").open("a") as runs:
        runs.write("run\n")
    while (base / "block").exists():
        time.sleep(0.1)
    return "done"


def _dead_worker() -> str:
    """The worker id of a process of this host that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{worker_name().rpartition(':')[0]}:{process.pid}"


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.mark.django_db
def test_a_task_of_a_dead_worker_is_queued_again_once(database_queue, tmp_path):
    slow_job_task.enqueue(str(tmp_path))
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now(), worker_ids=[_dead_worker()])
    assert requeue_orphaned_tasks(me=worker_name()) == 1
    assert requeue_orphaned_tasks(me=worker_name()) == 0  # READY now: nothing more to do
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["READY"]


@pytest.mark.django_db
def test_a_task_of_a_live_worker_or_of_two_dead_ones_is_not_queued_again(database_queue, tmp_path):
    slow_job_task.enqueue(str(tmp_path))
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now(), worker_ids=[worker_name()])
    assert requeue_orphaned_tasks(me="another:1") == 0  # this process is alive
    DBTaskResult.objects.update(worker_ids=[_dead_worker(), _dead_worker()])
    assert requeue_orphaned_tasks(me=worker_name()) == 0
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED"]


JOB = (
    "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult "
    "WHERE task_path = 'pheu.core.tests.test_worker_killed.slow_job_task'"
)


def _status(database: Path) -> list[str]:
    return [status for status, _workers in read_rows(database, JOB)]


@pytest.mark.timeout(300)
def test_a_worker_killed_mid_job_and_another_one_runs_it_again_once(process_database: Path, tmp_path: Path):
    env = process_env(process_database, tmp_path)
    (tmp_path / "block").touch()
    enqueue = (
        "from pheu.core.tests.test_worker_killed import slow_job_task; "
        f"slow_job_task.enqueue({str(tmp_path)!r})"
    )
    subprocess.run([*PHEU, "shell", "-c", enqueue], env=env, check=True, timeout=120, capture_output=True)
    runs = tmp_path / "runs"
    first = subprocess.Popen([*PHEU, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: runs.exists(), timeout=60, what="the job to start")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert _status(process_database) == ["RUNNING"]

    (tmp_path / "block").unlink()
    second = subprocess.Popen(
        [*PHEU, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(
            lambda: _status(process_database) == ["SUCCESSFUL"],
            timeout=90,
            what="the job to run again",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=40)
    assert runs.read_text() == "run\nrun\n"  # killed once, run again once
    assert len(json.loads(read_rows(process_database, JOB)[0][1])) == 2  # by two workers
