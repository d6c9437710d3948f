"""``pheu worker``: queued tasks, periodic jobs and a heartbeat, in one process.

- Queued tasks run in the main thread: on the database backend through django_tasks_db's own worker loop
  (claiming with ``SKIP LOCKED`` on PostgreSQL, an exclusive transaction on SQLite); on the Redis backend
  (``PHEU_TASKS_BACKEND=redis``) through :class:`pheu.core.redisqueue.RedisWorker`. Either way several
  workers, on any machines, share one queue.
- A side thread enqueues the due periodic jobs (:mod:`pheu.core.periodic`) every few seconds and writes this
  worker's heartbeat (``WorkerHeartbeat``, name ``host:pid``) every ~15 s; ``/healthz`` reads it.
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
