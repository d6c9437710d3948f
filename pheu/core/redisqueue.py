"""The Redis task backend (``PHEU_TASKS_BACKEND=redis``): one queue shared by workers on many machines.

A small django-tasks backend over redis-py, written for what Pheu's worker needs: no fork per job, a job
never lost when its worker dies, and each job run by one worker at a time.

Keys, all under ``PREFIX`` (``PHEU_REDIS_PREFIX``, default ``pheu``; several installations or test runs may
share one Redis with different prefixes):

- ``P:job:<id>`` — a hash per job: task path, JSON arguments, queue, status, times, attempts, the workers
  that took it, the return value or the errors. Kept ``RESULT_DAYS`` after it finishes (as the database
  backend's results are kept until the daily prune).
- ``P:q:<queue>`` — the ids ready to run, a list: enqueued at the left, taken from the right.
- ``P:delayed`` — the ids of jobs with a ``run_after``, scored by that time; moved to their queue when due.
- ``P:wip:<worker>`` — the ids a worker has taken. A worker takes a job with ``BLMOVE`` from its queue to
  its own list, one atomic step, so an id is always in exactly one list: a job is never run by two workers
  (unless one was presumed dead, below) and never dropped between them.
- ``P:alive:<worker>`` — a key with a ``LEASE_SECONDS`` expiry, renewed every third of it by a thread of
  the worker (also while a job runs); ``P:workers`` — the set of the workers' names.

A worker whose ``alive`` key has expired (killed, its machine gone) is dead: any worker, about every second,
moves the ids of a dead worker's list back to the head of their queue, where they run next — retried, not
lost —, and counts an attempt. A job that was taken ``MAX_ATTEMPTS`` times by workers that died is marked
failed (something in it may be what kills them). A worker that stops on a signal gives back what it holds.

Tasks, like every Pheu task, are idempotent: a worker that stalls longer than the lease (its job is then
given to another) does not write its result over the newer attempt's (the attempt's owner token decides).
The scripts compute their keys, so a Redis Cluster is not supported; one Redis server (or a replicated
primary) is.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any, TypeVar

import redis
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections
from django.utils.module_loading import import_string
from django_tasks import task_backends
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import (
    DEFAULT_TASK_PRIORITY,
    Task,
    TaskContext,
    TaskError,
    TaskResult,
    TaskResultStatus,
)
from django_tasks.exceptions import TaskResultDoesNotExist
from django_tasks.signals import task_enqueued, task_finished, task_started
from django_tasks.utils import get_exception_traceback, get_module_path, get_random_id
from redis.typing import EncodableT, FieldT

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_LEASE_SECONDS = 30
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_RESULT_DAYS = 14
LOST_ERROR = "pheu.core.redisqueue.WorkerLost"

# The worker's steps with jobs, as Lua functions shared by its scripts. ``start``: the job it took is
# RUNNING, one more attempt, with its owner token and worker id; returns {id, the job's hash…}, or false
# for an id whose hash expired (dropped). ``take``: the next job of the queues, in their order, started.
_STEPS = """
local prefix, worker, now = ARGV[1], ARGV[2], ARGV[3]
local wip = prefix .. ':wip:' .. worker
local function start(id)
  local job = prefix .. ':job:' .. id
  if redis.call('EXISTS', job) == 0 then
    redis.call('LREM', wip, 1, id)
    return false
  end
  local attempts = redis.call('HINCRBY', job, 'attempts', 1)
  local workers = cjson.decode(redis.call('HGET', job, 'worker_ids') or '[]')
  workers[#workers + 1] = worker
  local fields = {'status', 'RUNNING', 'last_attempted_at', now, 'owner', worker .. '#' .. attempts,
                  'worker_ids', cjson.encode(workers)}
  if not redis.call('HGET', job, 'started_at') then
    fields[#fields + 1] = 'started_at'
    fields[#fields + 1] = now
  end
  redis.call('HSET', job, unpack(fields))
  local data = redis.call('HGETALL', job)
  table.insert(data, 1, id)
  return data
end
local function take(first)
  for i = first, #ARGV do
    while true do
      local id = redis.call('LMOVE', prefix .. ':q:' .. ARGV[i], wip, 'RIGHT', 'LEFT')
      if not id then break end
      local data = start(id)
      if data then return data end
    end
  end
  return false
end
"""

# ARGV: prefix, worker, now, queue… → the job taken and started, or false.
_TAKE = _STEPS + "return take(4)"

# ARGV: prefix, worker, now, id (moved to the worker's list by BLMOVE) → the job started, or false.
_START = _STEPS + "return start(ARGV[4])"

# The last step of a job, and the first of the next one (one round trip a job): the result, written only by
# the attempt that still owns the job; out of the worker's list; then, when ARGV[10] is '1', the next job.
# ARGV: prefix, worker, now, id, owner, status, return value JSON, error JSON, result TTL, take?, queue…
# → {1 if written else 0, the next job…}.
_FINISH = (
    _STEPS
    + """
local id = ARGV[4]
local job = prefix .. ':job:' .. id
local written = 0
redis.call('LREM', wip, 1, id)
if redis.call('HGET', job, 'owner') == ARGV[5] then
  local fields = {'status', ARGV[6], 'finished_at', now}
  if ARGV[7] ~= '' then
    fields[#fields + 1] = 'return_value'
    fields[#fields + 1] = ARGV[7]
  end
  if ARGV[8] ~= '' then
    local errors = cjson.decode(redis.call('HGET', job, 'errors') or '[]')
    errors[#errors + 1] = cjson.decode(ARGV[8])
    fields[#fields + 1] = 'errors'
    fields[#fields + 1] = cjson.encode(errors)
  end
  redis.call('HSET', job, unpack(fields))
  redis.call('EXPIRE', job, ARGV[9])
  written = 1
end
local result = {written}
if ARGV[10] == '1' then
  local data = take(11)
  if data then
    for _, value in ipairs(data) do result[#result + 1] = value end
  end
end
return result
"""
)

# Dead workers' jobs back to the head of their queue (or failed after MAX_ATTEMPTS); returns how many.
_REAP = """
local prefix, max_attempts, now, ttl, message = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local moved = 0
for _, name in ipairs(redis.call('SMEMBERS', prefix .. ':workers')) do
  if redis.call('EXISTS', prefix .. ':alive:' .. name) == 0 then
    local wip = prefix .. ':wip:' .. name
    while true do
      local id = redis.call('RPOP', wip)
      if not id then break end
      local job = prefix .. ':job:' .. id
      local queue = redis.call('HGET', job, 'queue')
      if queue then
        local attempts = tonumber(redis.call('HGET', job, 'attempts') or '0')
        if attempts >= max_attempts then
          local errors = cjson.decode(redis.call('HGET', job, 'errors') or '[]')
          errors[#errors + 1] = {exception_class_path = ARGV[6], traceback = message}
          redis.call('HSET', job, 'status', 'FAILED', 'finished_at', now, 'owner', '',
                     'errors', cjson.encode(errors))
          redis.call('EXPIRE', job, ttl)
        else
          redis.call('HSET', job, 'status', 'READY', 'owner', '')
          redis.call('RPUSH', prefix .. ':q:' .. queue, id)
        end
        moved = moved + 1
      end
    end
    redis.call('SREM', prefix .. ':workers', name)
  end
end
return moved
"""

# Delayed jobs whose time has come, to the tail of their queue.
_PROMOTE = """
local prefix = ARGV[1]
local due = redis.call('ZRANGEBYSCORE', prefix .. ':delayed', '-inf', ARGV[2], 'LIMIT', 0, 500)
for _, id in ipairs(due) do
  redis.call('ZREM', prefix .. ':delayed', id)
  local queue = redis.call('HGET', prefix .. ':job:' .. id, 'queue')
  if queue then redis.call('LPUSH', prefix .. ':q:' .. queue, id) end
end
return #due
"""

# A worker giving back what it holds (stopping on a signal), to the head of the queues; the attempt is not
# counted (only a worker's death counts towards MAX_ATTEMPTS).
_GIVE_BACK = """
local prefix, wip = ARGV[1], KEYS[1]
local moved = 0
while true do
  local id = redis.call('RPOP', wip)
  if not id then break end
  local job = prefix .. ':job:' .. id
  local queue = redis.call('HGET', job, 'queue')
  if queue then
    redis.call('HSET', job, 'status', 'READY', 'owner', '')
    redis.call('HINCRBY', job, 'attempts', -1)
    redis.call('RPUSH', prefix .. ':q:' .. queue, id)
    moved = moved + 1
  end
end
return moved
"""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _parse_time(raw: bytes | str | None) -> datetime | None:
    if not raw:
        return None
    return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else raw)


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    return raw.decode() if isinstance(raw, bytes) else raw


@dataclass(frozen=True)
class QueueConfig:
    url: str
    prefix: str = "pheu"
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    result_days: int = DEFAULT_RESULT_DAYS

    @property
    def result_ttl(self) -> int:
        return max(60, self.result_days * 86400)


class RedisBackend(BaseTaskBackend):
    """django-tasks backend storing jobs in Redis (see the module's docstring for the keys).

    ``OPTIONS``: ``URL`` (required), ``PREFIX``, ``LEASE_SECONDS``, ``MAX_ATTEMPTS``, ``RESULT_DAYS``.
    """

    supports_defer = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        options = {key.upper(): value for key, value in self.options.items()}
        url = str(options.get("URL") or "")
        if not url:
            raise ImproperlyConfigured("the redis task backend needs a URL (PHEU_REDIS_URL)")
        self.config = QueueConfig(
            url=url,
            prefix=str(options.get("PREFIX") or "pheu"),
            lease_seconds=max(1, int(options.get("LEASE_SECONDS", DEFAULT_LEASE_SECONDS))),
            max_attempts=max(1, int(options.get("MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))),
            result_days=int(options.get("RESULT_DAYS", DEFAULT_RESULT_DAYS)),
        )
        self._client: redis.Redis | None = None

    @property
    def client(self) -> redis.Redis:
        # redis-py's pool is safe across threads and re-opens its connections in a forked child.
        if self._client is None:
            self._client = redis.Redis.from_url(self.config.url, health_check_interval=30)
        return self._client

    def key(self, *parts: str) -> str:
        return ":".join((self.config.prefix, *parts))

    def enqueue(self, task: Task[Any, T], args: Any, kwargs: Any) -> TaskResult[T]:
        self.validate_task(task)
        result: TaskResult[T] = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=datetime.now(UTC),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        fields: dict[FieldT, EncodableT] = {  # all text; typed as hset's mapping (its keys are invariant)
            "task": task.module_path,
            "args": json.dumps(result.args),
            "kwargs": json.dumps(result.kwargs),
            "queue": task.queue_name,
            "priority": str(task.priority),
            "backend": self.alias,
            "status": TaskResultStatus.READY,
            "enqueued_at": result.enqueued_at.isoformat(),  # type: ignore[union-attr]  # set when enqueued (just above)
            "run_after": task.run_after.isoformat() if task.run_after else "",
            "attempts": "0",
            "worker_ids": "[]",
            "errors": "[]",
        }
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(self.key("job", result.id), mapping=fields)
            if task.run_after is not None and task.run_after.timestamp() > time.time():
                pipe.zadd(self.key("delayed"), {result.id: task.run_after.timestamp()})
            elif task.priority > DEFAULT_TASK_PRIORITY:
                pipe.rpush(self.key("q", task.queue_name), result.id)  # taken next
            else:
                pipe.lpush(self.key("q", task.queue_name), result.id)
            pipe.execute()
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult:
        data = self.client.hgetall(self.key("job", result_id))
        if not data:
            raise TaskResultDoesNotExist(result_id)
        return self._result_from(result_id, {_text(k): v for k, v in data.items()})

    def _result_from(self, result_id: str, data: dict[str, Any]) -> TaskResult:
        task = import_string(_text(data["task"]))
        run_after = _parse_time(data.get("run_after"))
        task = task.using(
            priority=int(_text(data.get("priority")) or DEFAULT_TASK_PRIORITY),
            queue_name=_text(data.get("queue")),
            run_after=run_after,
            backend=self.alias,
        )
        errors = [
            TaskError(exception_class_path=item["exception_class_path"], traceback=item["traceback"])
            for item in json.loads(_text(data.get("errors")) or "[]")
        ]
        result: TaskResult[Any] = TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus(_text(data["status"])),
            enqueued_at=_parse_time(data.get("enqueued_at")),
            started_at=_parse_time(data.get("started_at")),
            last_attempted_at=_parse_time(data.get("last_attempted_at")),
            finished_at=_parse_time(data.get("finished_at")),
            args=json.loads(_text(data.get("args")) or "[]"),
            kwargs=json.loads(_text(data.get("kwargs")) or "{}"),
            backend=self.alias,
            errors=errors,
            worker_ids=json.loads(_text(data.get("worker_ids")) or "[]"),
        )
        if data.get("return_value"):
            object.__setattr__(result, "_return_value", json.loads(_text(data["return_value"])))
        return result

    def check(self, **kwargs: Any) -> Iterable[checks.CheckMessage]:
        yield from super().check(**kwargs)
        if not self.config.url.startswith(("redis://", "rediss://", "unix://")):
            yield checks.Error(
                f"PHEU_REDIS_URL={self.config.url!r} is not a Redis URL",
                hint="redis://host:6379/0, rediss://… (TLS) or unix:///path/to/redis.sock",
                id="pheu.E101",
            )


def redis_backend(alias: str = "default") -> RedisBackend | None:
    """The configured backend ``alias`` if it is the Redis one."""
    backend = task_backends[alias]
    return backend if isinstance(backend, RedisBackend) else None


class RedisWorker:
    """Takes jobs from the queues of one :class:`RedisBackend` and runs them in this process, one at a time.

    ``run()`` returns when :meth:`stop` is called (a first SIGTERM/SIGINT when ``install_signals``: the job
    running is finished first; a second one interrupts it, and the job goes back to its queue), or, with
    ``batch``, when the queues are empty.
    """

    def __init__(
        self,
        backend: RedisBackend,
        *,
        name: str,
        queue_names: Sequence[str] = ("*",),
        batch: bool = False,
        block_seconds: float = 1.0,
    ) -> None:
        self.backend = backend
        self.config = backend.config
        self.client = backend.client
        self.name = name
        queues = sorted(backend.queues) if "*" in queue_names else list(queue_names)
        self.queue_keys = [backend.key("q", queue) for queue in queues]
        self.wip_key = backend.key("wip", name)
        self.alive_key = backend.key("alive", name)
        self.batch = batch
        self.block_seconds = max(0.1, block_seconds)
        self._stop = threading.Event()
        self.queues = queues
        self._take_script = self.client.register_script(_TAKE)
        self._start = self.client.register_script(_START)
        self._finish = self.client.register_script(_FINISH)
        self._reap = self.client.register_script(_REAP)
        self._promote = self.client.register_script(_PROMOTE)
        self._give_back = self.client.register_script(_GIVE_BACK)
        self._last_housekeeping = float("-inf")
        self.ran = 0

    # --- life ------------------------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def install_signals(self) -> None:
        def handle(signum: int, frame: FrameType | None) -> None:
            if self._stop.is_set():
                logger.warning("received %s again: interrupting the job", signal.strsignal(signum))
                raise SystemExit(1)
            logger.warning("received %s: stopping after the job running", signal.strsignal(signum))
            self._stop.set()

        signal.signal(signal.SIGINT, handle)
        signal.signal(signal.SIGTERM, handle)

    def run(self) -> None:
        self._register()
        lease = threading.Thread(target=self._lease_loop, name="pheu-redis-lease", daemon=True)
        lease.start()
        try:
            job: list | None = None  # the job taken and started: [id, its hash as field, value, …]
            while not self._stop.is_set():
                self._housekeeping()
                if job is None:
                    job = self._take()
                if job is None:
                    if self.batch:
                        if not self._has_delayed_due_soon():
                            break
                        self._stop.wait(0.1)  # a deferred job falls due within the second
                    continue
                job = self._run(job)  # the next job comes with the end of this one
        finally:
            self._stop.set()
            try:
                given = self._give_back(keys=[self.wip_key], args=[self.config.prefix])
                if given:
                    logger.warning("worker %s gave back %s job(s) it had not finished", self.name, given)
                with self.client.pipeline() as pipe:
                    pipe.delete(self.alive_key)
                    pipe.srem(self.backend.key("workers"), self.name)
                    pipe.execute()
            except redis.RedisError:  # the lease then expires and another worker takes the jobs back
                logger.warning("worker %s: could not leave the queue cleanly", self.name, exc_info=True)
            lease.join(timeout=5)

    def _register(self) -> None:
        with self.client.pipeline() as pipe:
            pipe.set(self.alive_key, "1", ex=self.config.lease_seconds)
            pipe.sadd(self.backend.key("workers"), self.name)
            pipe.execute()

    def _lease_loop(self) -> None:
        every = max(0.2, self.config.lease_seconds / 3)
        while not self._stop.wait(every):
            try:
                self._register()
            except redis.RedisError:
                logger.warning("worker %s: lease not renewed", self.name, exc_info=True)

    def _housekeeping(self) -> None:
        """About every second: dead workers' jobs back to their queue, due delayed jobs to theirs."""
        now = time.monotonic()
        if now - self._last_housekeeping < 1.0:
            return
        self._last_housekeeping = now
        try:
            moved = self._reap(
                args=[
                    self.config.prefix,
                    self.config.max_attempts,
                    _now_iso(),
                    self.config.result_ttl,
                    f"the worker running it stopped without finishing it {self.config.max_attempts} times",
                    LOST_ERROR,
                ]
            )
            if moved:
                logger.warning("worker %s took back %s job(s) of workers that stopped", self.name, moved)
            self._promote(args=[self.config.prefix, time.time()])
        except redis.RedisError:
            logger.warning("worker %s: housekeeping failed", self.name, exc_info=True)

    def _has_delayed_due_soon(self) -> bool:
        return bool(self.client.zcount(self.backend.key("delayed"), "-inf", time.time() + 1))

    def _take(self) -> list | None:
        """The next job, started; with nothing queued, waits up to ``block_seconds`` for one."""
        now = _now_iso()
        try:
            job = self._take_script(args=[self.config.prefix, self.name, now, *self.queues])
            if job or self.batch:
                return job or None
            if len(self.queue_keys) > 1:
                self._stop.wait(self.block_seconds)
                return None
            # BLMOVE takes fractional seconds (Redis 6+); redis-py's annotation says int.
            timeout = self.block_seconds
            job_id = self.client.blmove(self.queue_keys[0], self.wip_key, timeout, "RIGHT", "LEFT")  # type: ignore[arg-type]  # BLMOVE takes fractional seconds; redis-py says int
            if job_id is None:
                return None
            return self._start(args=[self.config.prefix, self.name, _now_iso(), _text(job_id)]) or None
        except redis.ConnectionError:
            logger.warning("worker %s: Redis does not answer; trying again", self.name, exc_info=True)
            self._stop.wait(self.block_seconds)
            return None

    # --- one job ---------------------------------------------------------------------------------------
    def _run(self, job: list) -> list | None:
        """Run the started ``job``; write its result and take the next job (returned) in one step."""
        job_id = _text(job[0])
        data = {_text(job[i]): job[i + 1] for i in range(1, len(job) - 1, 2)}
        task_path, owner = _text(data["task"]), _text(data["owner"])
        status, return_json, error_json = TaskResultStatus.SUCCESSFUL, "", ""
        task: Task | None = None
        result: TaskResult | None = None
        try:
            task = import_string(task_path)
            if not isinstance(task, Task):
                raise TypeError(f"{task_path} is not a task")
            result = self.backend._result_from(job_id, data)
            task_started.send(sender=type(self.backend), task_result=result)
            if task.takes_context:
                value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
            else:
                value = task.call(*result.args, **result.kwargs)
            return_json = json.dumps(value)
        except Exception as exc:  # a failing task is recorded and the worker goes on
            status = TaskResultStatus.FAILED
            error_json = json.dumps(
                {
                    "exception_class_path": get_module_path(type(exc)),
                    "traceback": get_exception_traceback(exc),
                }
            )
            if task is None:
                logger.error("job %s: %s cannot run: %s", job_id, task_path, traceback.format_exc())
        finally:
            close_old_connections()
        take_next = "0" if self._stop.is_set() else "1"
        answer = self._finish(
            args=[
                self.config.prefix,
                self.name,
                _now_iso(),
                job_id,
                owner,
                status,
                return_json,
                error_json,
                self.config.result_ttl,
                take_next,
                *self.queues,
            ]
        )
        if not answer[0]:
            logger.warning("job %s: attempt %s finished after it was given to another worker", job_id, owner)
        self.ran += 1
        if result is not None:
            object.__setattr__(result, "status", status)
            task_finished.send(sender=type(self.backend), task_result=result)
        return answer[1:] or None
