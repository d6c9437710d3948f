"""``pheu worker``: queued tasks, periodic jobs and a heartbeat, in one process.

- Queued tasks run in the main thread: on the database backend through django_tasks_db's own worker loop
  (claiming with ``SKIP LOCKED`` on PostgreSQL, an exclusive transaction on SQLite); on the Redis backend
  (``PHEU_TASKS_BACKEND=redis``) through :class:`pheu.core.redisqueue.RedisWorker`. Either way several
  workers, on any machines, share one queue.
- A side thread enqueues the due periodic jobs (:mod:`pheu.core.periodic`) every few seconds and writes this
  worker's heartbeat (``WorkerHeartbeat``, name ``host:pid``) every ~15 s; ``/healthz`` reads it.
- A task left RUNNING by a worker that died (SIGKILL, power cut: its process is gone, or its heartbeat is
  stale) is put back in the queue — once: a task whose second worker died too is marked failed, so that a
  task that kills its worker cannot loop (:func:`requeue_orphaned_tasks`, at start and on every tick).
- SIGTERM / SIGINT stop it gracefully: the task running is finished first (a second signal aborts it); the
  heartbeat is removed on the way out.

With a task backend other than the database one (``immediate``, ``dummy``) there is no queue to poll: the
worker only schedules periodic jobs (which the immediate backend then runs at once, in the side thread).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType

from django.db import close_old_connections, connections
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker

from pheu.core.periodic import discover_periodic_jobs, enqueue_due_jobs
from pheu.core.redisqueue import RedisWorker, redis_backend
from pheu.core.services import forget_worker, record_worker_heartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
SCHEDULER_TICK_SECONDS = 5.0
BACKEND = "default"


def worker_name() -> str:
    """``host:pid``, at most 64 characters (django_tasks_db's limit for a worker id)."""
    pid = str(os.getpid())
    return f"{socket.gethostname()[: 63 - len(pid)]}:{pid}"


# A task is tried by at most this many workers: one that died, then one more.
MAX_ATTEMPTS = 2


def _worker_gone(worker_id: str, *, stale_before: datetime) -> bool:
    """Is the worker ``host:pid`` dead? On this host its process says so at once; elsewhere its heartbeat
    (missing or older than ``stale_before``)."""
    from pheu.core.models import WorkerHeartbeat

    host, _sep, pid = worker_id.rpartition(":")
    if pid.isdigit() and host == socket.gethostname()[: 63 - len(pid)]:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, someone else's
            return False
        return False
    seen = WorkerHeartbeat.objects.filter(name=worker_id).values_list("seen_at", flat=True).first()
    return seen is None or seen < stale_before


def requeue_orphaned_tasks(*, me: str = "") -> int:
    """Put back in the queue the database tasks whose worker died while running them; return how many.

    Only a task still RUNNING with the same start is changed (one conditional UPDATE per task), so that two
    workers recovering at once give it back once, and one worker then claims it (``SKIP LOCKED``). A task
    already tried by :data:`MAX_ATTEMPTS` workers is marked failed instead. Tasks are meant to be idempotent
    (STYLE 12): the one run again redoes what the dead worker had not committed.
    """
    from django.conf import settings
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task_backends[BACKEND], DatabaseBackend):
        return 0
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.PHEU_WORKER_STALE_SECONDS)
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, backend_name=BACKEND)
    requeued = 0
    for task_id, worker_ids, started_at in running.values_list("id", "worker_ids", "started_at"):
        owner = worker_ids[-1] if worker_ids else ""
        if not owner or owner == me or not _worker_gone(owner, stale_before=stale_before):
            continue
        same = DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING, started_at=started_at)
        if len(worker_ids) >= MAX_ATTEMPTS:
            same.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="pheu.core.worker.WorkerDied",
                traceback=f"The workers running it died: {', '.join(worker_ids)}.",
            )
            logger.error("task %s failed: its workers died (%s)", task_id, ", ".join(worker_ids))
            continue
        if same.update(status=TaskResultStatus.READY, started_at=None):
            requeued += 1
            logger.warning("task %s queued again: its worker %s died while running it", task_id, owner)
    return requeued


@dataclass(frozen=True)
class WorkerOptions:
    queue_names: tuple[str, ...] = ("*",)
    interval: float = 1.0  # seconds between polls of an empty queue
    once: bool = False  # enqueue what is due, run everything queued, then return
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    tick_seconds: float = SCHEDULER_TICK_SECONDS


class PheuWorker:
    """Runs until a signal stops it (or, with ``once``, until the queue is empty)."""

    def __init__(self, options: WorkerOptions, *, name: str | None = None) -> None:
        self.options = options
        self.name = name or worker_name()
        self._stop = threading.Event()
        self._last_beat = float("-inf")

    @property
    def has_queue(self) -> bool:
        return isinstance(task_backends[BACKEND], DatabaseBackend) or redis_backend(BACKEND) is not None

    def run(self) -> None:
        jobs = discover_periodic_jobs()
        logger.info(
            "worker %s starting: queues=%s periodic=%s",
            self.name,
            ",".join(self.options.queue_names),
            ",".join(job.name for job in jobs) or "-",
        )
        if self.has_queue:
            requeue_orphaned_tasks(me=self.name)
        if self.options.once:
            self._beat()
            enqueue_due_jobs(jobs=jobs)
            if self.has_queue:
                self._queue_worker(batch=True).run()
            return
        side = threading.Thread(target=self._side_loop, name="pheu-scheduler", daemon=True)
        side.start()
        try:
            if self.has_queue:
                worker = self._queue_worker(batch=False)
                if isinstance(worker, RedisWorker):
                    worker.install_signals()
                else:
                    worker.configure_signals()
                worker.run()
            else:
                self._wait_for_signal()
        finally:
            self._stop.set()
            side.join(timeout=self.options.tick_seconds + 5)
            self._forget()
            logger.info("worker %s stopped", self.name)

    def _queue_worker(self, *, batch: bool) -> DatabaseWorker | RedisWorker:
        queues = list(self.options.queue_names)
        backend = redis_backend(BACKEND)
        if backend is not None:
            return RedisWorker(
                backend, name=self.name, queue_names=queues, batch=batch, block_seconds=self.options.interval
            )
        return DatabaseWorker(
            queue_names=queues,
            interval=self.options.interval,
            batch=batch,
            backend_name=BACKEND,
            startup_delay=not batch,
            max_tasks=None,
            worker_id=self.name,
            excluded_queue_names=[],
        )

    def _wait_for_signal(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            logger.warning("received %s: stopping", signal.strsignal(signum))
            self._stop.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not self._stop.wait(1.0):
            pass

    def _side_loop(self) -> None:
        """Heartbeat and periodic scheduling; a database error is logged and retried on the next tick."""
        try:
            while not self._stop.is_set():
                try:
                    if time.monotonic() - self._last_beat >= self.options.heartbeat_seconds:
                        self._beat()
                        requeue_orphaned_tasks(me=self.name)
                    enqueue_due_jobs()
                except Exception:
                    logger.exception("worker %s: scheduling or heartbeat failed", self.name)
                finally:
                    close_old_connections()
                self._stop.wait(self.options.tick_seconds)
        finally:
            connections.close_all()  # this thread's own connections

    def _beat(self) -> None:
        record_worker_heartbeat(name=self.name)
        self._last_beat = time.monotonic()

    def _forget(self) -> None:
        try:
            forget_worker(name=self.name)
        except Exception:  # the database may be what is going away; the row then goes stale
            logger.warning("worker %s: could not remove its heartbeat", self.name, exc_info=True)
