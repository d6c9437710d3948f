"""The counters shared by every process (rate limits): on the database, on Redis, and across processes."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from pheu.core.counters import count_hit, hit, prune_counters
from pheu.core.models import Counter
from pheu.core.tests.processes import PHEU, free_port, process_env, wait_for


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    """Each test on both stores: the database (no Redis configured) and Redis."""
    if request.param == "redis":
        redis_store = request.getfixturevalue("redis_store")
        settings.PHEU_REDIS_URL = redis_store.url
        settings.PHEU_REDIS_PREFIX = redis_store.prefix
    else:
        settings.PHEU_REDIS_URL = ""
    return request.param


@pytest.mark.django_db
def test_hits_are_counted_per_name_and_window(store):
    now = 1_000_000.0
    assert [count_hit("a", window=60, now=now + i) for i in range(3)] == [1, 2, 3]
    assert count_hit("b", window=60, now=now) == 1
    assert count_hit("a", window=60, now=now + 60) == 1  # the next window starts afresh


@pytest.mark.django_db
def test_the_limit_refuses_past_its_count_with_the_seconds_to_wait(store):
    assert [hit("form", "203.0.113.7", limit=2, window=60) for _ in range(2)] == [0, 0]
    wait = hit("form", "203.0.113.7", limit=2, window=60)
    assert 1 <= wait <= 61
    assert hit("form", "198.51.100.1", limit=2, window=60) == 0  # another address has its own count
    assert hit("form", "203.0.113.7", limit=0, window=60) == 0  # no limit


@pytest.mark.django_db
def test_ended_windows_are_pruned(settings):
    settings.PHEU_REDIS_URL = ""
    count_hit("old", window=1, now=1_000.0)
    count_hit("current", window=3600)
    assert prune_counters() == 1
    assert [row.key.split(":")[0] for row in Counter.objects.all()] == ["current"]
    assert prune_counters(now=datetime.now(UTC) + timedelta(hours=2)) == 1


def _once_on_sqlite() -> None:
    # The processes run on an SQLite file of their own: the PostgreSQL pass of the suite would repeat them.
    if connection.vendor != "sqlite":
        pytest.skip("runs on its own SQLite file, in the SQLite pass of the suite")


# Many processes counting at once: each one a separate Python process, hits raced through one store.
_COUNT_IN_A_PROCESS = """
import sys, django
django.setup()
from pheu.core.counters import count_hit
print(max(count_hit("race", window=3600, now=7200.0) for _ in range(int(sys.argv[1]))))
"""


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_processes_counting_at_once_lose_no_hit(backend, process_database: Path, tmp_path: Path, request):
    _once_on_sqlite()
    env = process_env(process_database, tmp_path)
    if backend == "redis":
        redis_store = request.getfixturevalue("redis_store")
        env.update(PHEU_REDIS_URL=redis_store.url, PHEU_REDIS_PREFIX=redis_store.prefix)
    runs = [
        subprocess.Popen([sys.executable, "-c", _COUNT_IN_A_PROCESS, "50"], env=env, stdout=subprocess.PIPE)
        for _ in range(4)
    ]
    highest = [int(run.communicate(timeout=120)[0]) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert max(highest) == 200  # 4 processes × 50 hits, none lost to a race


_MAKE_FORM = """
import django
django.setup()
from pheu.teams.models import Team
Team.objects.create(name="Web", form_key="web-key")
"""


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_the_web_form_limit_holds_across_three_web_processes(
    backend, process_database: Path, tmp_path: Path, request
):
    _once_on_sqlite()
    env = process_env(process_database, tmp_path)
    if backend == "redis":
        redis_store = request.getfixturevalue("redis_store")
        env.update(PHEU_REDIS_URL=redis_store.url, PHEU_REDIS_PREFIX=redis_store.prefix)
    env.update(PHEU_WEBFORM_RATE_LIMIT="10", PHEU_WEBFORM_RATE_WINDOW="3600", PHEU_LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "-c", _MAKE_FORM], env=env, check=True, timeout=120)
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*PHEU, "serve", "--port", str(port), "--workers", "3", "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/forms/lead/web-key/"

    def post(number: int) -> int:
        body = json.dumps({"contact_name": f"Khách {number}", "email": f"k{number}@example.vn"}).encode()
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return True
        except urllib.error.HTTPError:  # 503 while the worker is not there: it answers
            return True
        except (urllib.error.URLError, OSError):  # not listening yet, or still booting
            return False

    try:
        wait_for(healthy, timeout=60, what="pheu serve to answer")
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(post, range(30)))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    # 10 taken, whichever of the 3 processes served them (each counting alone would take up to 30).
    assert sorted(answers) == [201] * 10 + [429] * 20, answers
