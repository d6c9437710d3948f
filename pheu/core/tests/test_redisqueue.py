"""The Redis task backend and its worker (``PHEU_TASKS_BACKEND=redis``), on the real Redis.

In-process tests drive :class:`RedisWorker` in batch mode; the process test starts two ``pheu worker``
processes on the real Redis and PostgreSQL, kills one mid-job, and checks what ran.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django_tasks import task
from django_tasks.base import TaskResultStatus

from pheu.core import redisqueue
from pheu.core.redisqueue import LOST_ERROR, RedisWorker, redis_backend
from pheu.core.tests.processes import PHEU, wait_for

CALLS: list[str] = []


@task()
def record_call_task(label: str) -> str:
    CALLS.append(label)
    return label


@task()
def failing_task() -> None:
    raise ValueError("this task always fails")


@task()
def probe_task(label: str, seconds: float = 0.0) -> str:
    """Counts its starts and ends in Redis (the test reads them) under the configured prefix."""
    client = redis.Redis.from_url(django_settings.PHEU_REDIS_URL)
    prefix = django_settings.PHEU_REDIS_PREFIX
    client.hincrby(f"{prefix}:probe:started", label, 1)
    time.sleep(seconds)
    client.hincrby(f"{prefix}:probe:finished", label, 1)
    return label


def _redis_tasks(settings, store, *, lease_seconds: int = 30, max_attempts: int = 3) -> None:
    settings.TASKS = {
        "default": {
            "BACKEND": "pheu.core.redisqueue.RedisBackend",
            "QUEUES": ["default"],
            "OPTIONS": {
                "URL": store.url,
                "PREFIX": store.prefix,
                "LEASE_SECONDS": lease_seconds,
                "MAX_ATTEMPTS": max_attempts,
            },
        }
    }
    settings.PHEU_REDIS_PREFIX = store.prefix


@pytest.fixture
def redis_tasks(settings, redis_store, monkeypatch):
    """The Redis backend on the test's own key prefix; the worker's connection clean-up between jobs would
    close the test's own connection inside its transaction."""
    _redis_tasks(settings, redis_store)
    monkeypatch.setattr(redisqueue, "close_old_connections", lambda: None)
    CALLS.clear()
    return redis_store


def _batch(name: str = "test:1") -> RedisWorker:
    backend = redis_backend()
    assert backend is not None
    return RedisWorker(backend, name=name, batch=True)


@pytest.mark.django_db
def test_a_queued_task_runs_once_and_its_result_is_read_back(redis_tasks):
    queued = record_call_task.enqueue("a")
    assert queued.status == TaskResultStatus.READY
    assert record_call_task.get_result(queued.id).status == TaskResultStatus.READY

    worker = _batch()
    worker.run()
    _batch().run()  # nothing left: the job is not run again

    result = record_call_task.get_result(queued.id)
    assert CALLS == ["a"] and worker.ran == 1
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "a"
    assert result.worker_ids == ["test:1"] and result.attempts == 1
    assert result.started_at and result.finished_at and result.finished_at >= result.started_at
    assert redis_tasks.client.llen(f"{redis_tasks.prefix}:q:default") == 0
    assert redis_tasks.client.llen(f"{redis_tasks.prefix}:wip:test:1") == 0


@pytest.mark.django_db
def test_a_failing_task_is_recorded_and_the_next_one_runs(redis_tasks):
    failed = failing_task.enqueue()
    after = record_call_task.enqueue("after")
    _batch().run()
    result = failing_task.get_result(failed.id)
    assert result.status == TaskResultStatus.FAILED
    assert [error.exception_class_path for error in result.errors] == ["builtins.ValueError"]
    assert "this task always fails" in result.errors[0].traceback
    assert record_call_task.get_result(after.id).status == TaskResultStatus.SUCCESSFUL
    assert CALLS == ["after"]


@pytest.mark.django_db
def test_jobs_run_in_order_and_a_high_priority_one_first(redis_tasks):
    for label in ("1", "2", "3"):
        record_call_task.enqueue(label)
    record_call_task.using(priority=10).enqueue("urgent")
    _batch().run()
    assert CALLS == ["urgent", "1", "2", "3"]


@pytest.mark.django_db
def test_a_deferred_job_waits_for_its_time(redis_tasks):
    later = record_call_task.using(run_after=datetime.now(UTC) + timedelta(hours=1)).enqueue("later")
    _batch().run()
    assert CALLS == [] and record_call_task.get_result(later.id).status == TaskResultStatus.READY

    redis_tasks.client.zadd(f"{redis_tasks.prefix}:delayed", {later.id: time.time() - 1})  # its time came
    _batch().run()
    assert CALLS == ["later"]
    assert record_call_task.get_result(later.id).status == TaskResultStatus.SUCCESSFUL


def _held_by_dead_worker(store, job_id: str, name: str = "gone:99") -> None:
    """As if the worker ``name`` took the job and was killed: in its list, no lease any more."""
    store.client.lrem(f"{store.prefix}:q:default", 1, job_id)
    store.client.lpush(f"{store.prefix}:wip:{name}", job_id)
    store.client.sadd(f"{store.prefix}:workers", name)
    store.client.hset(f"{store.prefix}:job:{job_id}", mapping={"status": "RUNNING", "attempts": 1})


@pytest.mark.django_db
def test_a_dead_workers_job_goes_back_to_the_queue_and_runs(redis_tasks):
    lost = record_call_task.enqueue("lost")
    _held_by_dead_worker(redis_tasks, lost.id)

    _batch("alive:1").run()

    result = record_call_task.get_result(lost.id)
    assert CALLS == ["lost"]
    assert result.status == TaskResultStatus.SUCCESSFUL and result.attempts == 1
    assert int(redis_tasks.client.hget(f"{redis_tasks.prefix}:job:{lost.id}", "attempts")) == 2
    assert not redis_tasks.client.sismember(f"{redis_tasks.prefix}:workers", "gone:99")


@pytest.mark.django_db
def test_a_job_whose_workers_keep_dying_is_failed_not_retried_forever(redis_tasks, settings):
    _redis_tasks(settings, redis_tasks, max_attempts=2)
    poison = record_call_task.enqueue("poison")
    _held_by_dead_worker(redis_tasks, poison.id)
    redis_tasks.client.hset(f"{redis_tasks.prefix}:job:{poison.id}", "attempts", 2)

    _batch().run()

    result = record_call_task.get_result(poison.id)
    assert CALLS == []
    assert result.status == TaskResultStatus.FAILED
    assert [error.exception_class_path for error in result.errors] == [LOST_ERROR]


@pytest.mark.django_db
def test_a_stalled_attempt_does_not_overwrite_the_newer_one(redis_tasks):
    job = record_call_task.enqueue("twice")
    key = f"{redis_tasks.prefix}:job:{job.id}"
    worker = _batch("slow:1")
    assert worker._take() is not None
    redis_tasks.client.hset(key, "owner", "fast:2#2")  # meanwhile presumed dead, and run by another
    now = "2026-01-01T00:00:01+00:00"
    answer = worker._finish(
        args=[redis_tasks.prefix, "slow:1", now, job.id, "slow:1#1", "FAILED", "", "", 60, "1", "default"]
    )
    assert answer == [0]  # not written, and nothing next
    assert redis_tasks.client.hget(key, "status") == b"RUNNING"
    assert redis_tasks.client.llen(worker.wip_key) == 0


def test_the_redis_backend_needs_its_url(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHEU_")}
    env.update(PHEU_TASKS_BACKEND="redis", PHEU_VAR_DIR=str(tmp_path))
    done = subprocess.run([*PHEU, "check"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "PHEU_TASKS_BACKEND=redis needs PHEU_REDIS_URL" in done.stderr


# --- two real workers ------------------------------------------------------------------------------


def _database_url() -> str:
    conf = connection.settings_dict
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf.get("PASSWORD") else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


def _job_hashes(store) -> dict[str, dict[str, str]]:
    jobs = {}
    for key in store.stored_keys():
        if ":job:" in key:
            data = store.client.hgetall(key)
            jobs[key.rsplit(":", 1)[1]] = {k.decode(): v.decode() for k, v in data.items()}
    return jobs


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_run_each_job_once_and_retry_the_job_of_a_killed_one(
    redis_store, settings, tmp_path, actors
):
    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the suite's database: PostgreSQL (SQLite's is in memory)")
    from pheu.capture.tasks import fetch_mailboxes_task
    from pheu.imports.services import start_import, upload_import
    from pheu.leads.models import Lead
    from pheu.scoring.models import RescoreRun
    from pheu.scoring.tasks import rescore_task

    _redis_tasks(settings, redis_store)
    settings.PHEU_REDIS_URL = redis_store.url
    settings.MEDIA_ROOT = tmp_path / "media"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHEU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="pheu.settings",
        PHEU_DATABASE_URL=_database_url(),
        PHEU_VAR_DIR=str(tmp_path),
        PHEU_TASKS_BACKEND="redis",
        PHEU_REDIS_URL=redis_store.url,
        PHEU_REDIS_PREFIX=redis_store.prefix,
        # Short, for the killed worker's job to come back soon; long enough that a live worker starved of CPU
        # on a loaded machine keeps its lease (renewed every third of it).
        PHEU_REDIS_LEASE_SECONDS="5",
        PHEU_IMAP_POLL_SECONDS="3600",  # one periodic poll in the test's time
        PYTHONUNBUFFERED="1",
    )

    # 200 jobs: 20 imports of 3 rows, 20 re-scorings, 20 mail polls and 140 probes, queued before the
    # workers start so that both find a full queue.
    imports = []
    for number in range(20):
        rows = "".join(f"Lead {number}-{row},lead{number}-{row}@example.vn\n" for row in range(3))
        upload = io.BytesIO(f"name,email\n{rows}".encode())
        run = upload_import(actor=actors.manager, upload=upload, file_name=f"leads-{number}.csv")
        imports.append(start_import(actor=actors.manager, import_run=run))  # queued on commit
    for _ in range(20):
        rescore_task.enqueue(RescoreRun.objects.create(reason="test").pk)
        fetch_mailboxes_task.enqueue()
    labels = [f"p{number}" for number in range(140)]
    for label in labels:
        probe_task.enqueue(label, 0.01)
    assert len(_job_hashes(redis_store)) == 200

    logs = [(tmp_path / f"worker{n}.log").open("wb") for n in (1, 2)]
    workers = [
        subprocess.Popen(
            [*PHEU, "worker", "--interval", "0.2"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        for log in logs
    ]
    try:

        def finished() -> bool:
            jobs = _job_hashes(redis_store).values()
            return all(job["status"] in {"SUCCESSFUL", "FAILED"} for job in jobs) and len(jobs) >= 200

        wait_for(finished, timeout=120, what="the 200 jobs (and the periodic ones) to finish")
        jobs = _job_hashes(redis_store)
        by_task: dict[str, list[dict[str, str]]] = {}
        for job in jobs.values():
            by_task.setdefault(job["task"], []).append(job)

        assert {job["status"] for job in jobs.values()} == {"SUCCESSFUL"}, [
            (job["task"], json.loads(job["errors"])) for job in jobs.values() if job["status"] != "SUCCESSFUL"
        ]
        assert {job["attempts"] for job in jobs.values()} == {"1"}  # each taken once, by one worker
        started = redis_store.client.hgetall(f"{redis_store.prefix}:probe:started")
        assert {k.decode(): int(v) for k, v in started.items()} == dict.fromkeys(labels, 1)
        assert len(by_task["pheu.imports.tasks.run_import_task"]) == 20
        assert len(by_task["pheu.scoring.tasks.rescore_task"]) == 20
        returns = [json.loads(job["return_value"]) for job in by_task["pheu.imports.tasks.run_import_task"]]
        assert Lead.objects.filter(email__endswith="@example.vn").count() == 60, returns
        assert set(RescoreRun.objects.values_list("status", flat=True)) == {RescoreRun.Status.DONE}
        # Both workers took a share of the queue.
        assert len({json.loads(job["worker_ids"])[0] for job in jobs.values()}) == 2
        # Each periodic job was enqueued once for its period by the two workers together.
        for path in (
            "pheu.core.tasks.prune_old_records_task",
            "pheu.assignment.tasks.run_scheduled_assignments_task",
            "pheu.assignment.tasks.prune_member_loads_task",
            "pheu.leads.tasks.compact_pipeline_totals_task",
        ):
            assert len(by_task[path]) == 1, path
        assert len(by_task["pheu.capture.tasks.fetch_mailboxes_task"]) == 21  # 20 queued + 1 periodic

        # A worker killed mid-job: the other takes the job back once the lease expires, and finishes it.
        slow = probe_task.enqueue("slow", 3.0)
        started_key = f"{redis_store.prefix}:probe:started"
        wait_for(
            lambda: redis_store.client.hget(started_key, "slow"), timeout=30, what="the slow job to start"
        )
        holder = json.loads(_job_hashes(redis_store)[slow.id]["worker_ids"])[0]
        victim = next(worker for worker in workers if holder.endswith(f":{worker.pid}"))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)

        def slow_done() -> bool:
            return _job_hashes(redis_store)[slow.id]["status"] == "SUCCESSFUL"

        wait_for(slow_done, timeout=60, what="the killed worker's job to be retried")
        job = _job_hashes(redis_store)[slow.id]
        survivor = next(worker for worker in workers if worker is not victim)
        assert json.loads(job["worker_ids"]) == [holder, json.loads(job["worker_ids"])[1]]
        assert json.loads(job["worker_ids"])[1].endswith(f":{survivor.pid}")
        assert job["attempts"] == "2"
        assert redis_store.client.hget(started_key, "slow") == b"2"
        assert redis_store.client.hget(f"{redis_store.prefix}:probe:finished", "slow") == b"1"

        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=30) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
        for log in logs:
            log.close()
