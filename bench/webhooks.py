"""``webhooks``: from the commit of a lead's creation to its ``lead.created`` request reaching a receiver.

A real receiver (``http.server`` in a thread, :mod:`pheu.webhooks.testing`) listens on a free port; an active
endpoint points at it; ``pheu worker`` runs in its own process, as in production, on the database queue
(its default ``--interval`` 0.5, and 0.25), and on Redis when ``BENCH_REDIS_URL`` is set. This process
creates ``n`` leads one at a time, each in its own transaction, each after a pause of 0.2–1.2 s (the worker
idle in between, at a random point of its polling), and measures for each the time from the commit to the
arrival of its request. Target (issue 25): p95 ≤ 1 s.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench._registry import benchmark

DATABASE_QUEUE = {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _stamp(into: list[float]) -> None:
    into.append(time.time())


def _worker(env: dict[str, str], args: list[str]) -> subprocess.Popen[bytes]:
    log = Path("var") / "bench-webhooks-worker.log"
    log.parent.mkdir(exist_ok=True)
    pheu = Path(sys.executable).with_name("pheu")
    with log.open("wb") as out:
        return subprocess.Popen([str(pheu), "worker", "-v", "0", *args], env=env, stdout=out, stderr=out)


def _run(n: int, *, tasks: dict[str, Any], env: dict[str, str], args: list[str]) -> dict[str, float]:
    from django.db import transaction
    from django.test.utils import override_settings

    from pheu.leads.services import create_lead
    from pheu.webhooks.models import WebhookDelivery, WebhookEndpoint
    from pheu.webhooks.testing import make_endpoint, run_receiver

    latencies: list[float] = []
    with run_receiver() as receiver, override_settings(TASKS={"default": tasks}):
        WebhookEndpoint.objects.all().delete()
        make_endpoint(receiver.url, ["lead.created"], name="bench")
        worker = _worker(env, args)
        try:
            time.sleep(8)  # started; the periodic jobs due at start have run: the queue is empty
            for i in range(n):
                time.sleep(random.uniform(0.2, 1.2))
                committed: list[float] = []
                with transaction.atomic():
                    transaction.on_commit(partial(_stamp, committed))  # runs first after the COMMIT
                    create_lead(actor=None, values={"name": f"Webhook bench {i}"})
                got = receiver.wait_for(i + 1, timeout=15)
                if len(got) <= i:
                    raise RuntimeError(
                        f"lead {i}: no request within 15 s (see var/bench-webhooks-worker.log)"
                    )
                latencies.append((got[i].at - committed[0]) * 1000)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        WebhookEndpoint.objects.all().delete()
        assert not WebhookDelivery.objects.exists()
    return {
        "p50_ms": _percentile(latencies, 50),
        "p95_ms": _percentile(latencies, 95),
        "max_ms": max(latencies),
    }


@benchmark("webhooks", default_n=60)
def webhooks(n: int) -> dict[str, float]:
    base_env = {k: v for k, v in os.environ.items() if k != "PHEU_TASKS_BACKEND"}  # the database queue
    figures: dict[str, float] = {}
    runs: list[tuple[str, dict[str, Any], dict[str, str], list[str]]] = [
        ("db_default_0.5s", DATABASE_QUEUE, base_env, []),
        ("db_interval_0.25s", DATABASE_QUEUE, base_env, ["--interval", "0.25"]),
    ]
    redis_url = os.environ.get("BENCH_REDIS_URL", "")
    if redis_url:
        prefix = f"pheu-bench-{os.getpid()}"
        redis_tasks = {
            "BACKEND": "pheu.core.redisqueue.RedisBackend",
            "QUEUES": ["default"],
            "OPTIONS": {"URL": redis_url, "PREFIX": prefix},
        }
        redis_env = {**base_env, "PHEU_TASKS_BACKEND": "redis", "PHEU_REDIS_URL": redis_url}
        redis_env["PHEU_REDIS_PREFIX"] = prefix
        runs.append(("redis", redis_tasks, redis_env, []))
    for label, tasks, env, args in runs:
        result = _run(n, tasks=tasks, env=env, args=args)
        print(f"  {label:20s} " + "  ".join(f"{k}={v:,.1f}" for k, v in result.items()), flush=True)
        figures.update({f"{label}_{k}": v for k, v in result.items()})
    return figures
