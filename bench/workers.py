"""``workers``: how fast ``pheu worker`` processes drain the Redis queue, with 1 worker and then with 2.

``--n`` small jobs (default 10,000; each normalises one contact's phone, e-mail and name, ≈ 0.1 ms of work:
``bench.jobs.small_job_task``)
are queued on Redis (``PHEU_BENCH_REDIS``, default database 8 of 127.0.0.1:6379, under a key prefix of this
run's own) while the queue is held aside; the workers are started as a user starts them (``pheu worker``,
``PHEU_TASKS_BACKEND=redis``, on the bench database), and once every one of them is up and idle the queue
is released and the time until the last job is finished is measured. What is printed: the settings, each
run's drain time and jobs per second, and the ratio of the two rates (target ≥ 1.7, SPEC 13 / issue 25);
``BENCH_WORKERS_ROUNDS`` rounds (default 3) of 1 then 2 workers, and the medians.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench._registry import benchmark

REDIS_URL = os.environ.get("PHEU_BENCH_REDIS", "redis://127.0.0.1:6379/8")
ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_WORKERS_ROUNDS", "3"))


def _backend(prefix: str):
    from pheu.core.redisqueue import RedisBackend

    return RedisBackend("bench", {"QUEUES": ["default"], "OPTIONS": {"URL": REDIS_URL, "PREFIX": prefix}})


def _clear(client, prefix: str) -> None:
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def _drain(n: int, workers: int, prefix: str, log_dir: Path) -> float:
    """Seconds the ``workers`` processes take to run ``n`` queued jobs (from release to the last one done)."""
    backend = _backend(prefix)
    client = backend.client
    _clear(client, prefix)
    queue, held = f"{prefix}:q:default", f"{prefix}:held"
    from bench.jobs import small_job_task

    for number in range(n):
        backend.enqueue(small_job_task, [number], {})
    client.rename(queue, held)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHEU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="pheu.settings",
        PHEU_DATABASE_URL=os.environ["PHEU_DATABASE_URL"],
        PHEU_TASKS_BACKEND="redis",
        PHEU_REDIS_URL=REDIS_URL,
        PHEU_REDIS_PREFIX=prefix,
        PHEU_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    logs = [(log_dir / f"worker-{workers}-{i}.log").open("wb") for i in range(workers)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pheu.cli", "worker", "-v", "0", "--interval", "0.2"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        deadline = time.monotonic() + 120
        # Up (registered), and idle: the periodic jobs a first start queues have run.
        while not (
            client.scard(f"{prefix}:workers") == workers
            and client.llen(queue) == 0
            and all(
                client.llen(f"{prefix}:wip:{name.decode()}") == 0
                for name in client.smembers(f"{prefix}:workers")
            )
        ):
            if time.monotonic() > deadline or any(proc.poll() is not None for proc in procs):
                raise RuntimeError(f"the workers did not start (logs in {log_dir})")
            time.sleep(0.1)
        time.sleep(1.0)
        started = time.perf_counter()
        client.rename(held, queue)
        names = [name.decode() for name in client.smembers(f"{prefix}:workers")]
        while client.llen(queue) or any(client.llen(f"{prefix}:wip:{name}") for name in names):
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        for log in logs:
            log.close()
    done = sum(
        1
        for key in client.scan_iter(f"{prefix}:job:*", count=1000)
        if client.hget(key, "status") == b"SUCCESSFUL"
    )
    _clear(client, prefix)
    if done < n:
        raise RuntimeError(f"{done} of {n} jobs succeeded")
    return elapsed


@benchmark("workers", default_n=10_000)
def workers_bench(n: int) -> dict[str, float]:
    import redis

    redis.Redis.from_url(REDIS_URL).ping()
    prefix = f"pheu-bench-{uuid.uuid4().hex[:8]}"
    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / prefix
    log_dir.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(
        f"  settings: {n:,} jobs, {ROUNDS} rounds, Redis {REDIS_URL} prefix {prefix}, `pheu worker -v 0`, "
        f"{os.cpu_count()} cores, load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    ones, twos = [], []
    for round_number in range(1, ROUNDS + 1):  # alternated, so that a change of the machine's load hits both
        one = _drain(n, 1, prefix, log_dir)
        two = _drain(n, 2, prefix, log_dir)
        ones.append(n / one)
        twos.append(n / two)
        print(
            f"  round {round_number}: 1 worker {one:.2f} s ({n / one:,.0f} jobs/s), "
            f"2 workers {two:.2f} s ({n / two:,.0f} jobs/s), ratio {one / two:.2f}"
        )
    one_rate, two_rate = statistics.median(ones), statistics.median(twos)
    ratio = two_rate / one_rate
    load = os.getloadavg()
    print(
        f"  median: 1 worker {one_rate:,.0f} jobs/s, 2 workers {two_rate:,.0f} jobs/s, ratio {ratio:.2f} "
        f"(target ≥ 1.7); load average after {load[0]:.2f}"
    )
    return {"one_per_s": one_rate, "two_per_s": two_rate, "ratio": ratio}
