from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from pheu.core.management.commands import serve
from pheu.core.serving import ChildSpec, plan_serve
from pheu.core.tests.processes import PHEU, free_port, process_env, read_rows, wait_for

PY = sys.executable


def test_plan_runs_gunicorn_on_the_address_and_the_worker_beside_it():
    plan = plan_serve(host="127.0.0.1", port=8123, workers=3, worker=True)
    web, worker = plan.children
    assert plan.url == "http://127.0.0.1:8123/"
    assert web.argv[:4] == (PY, "-m", "gunicorn", "pheu.wsgi:application")
    assert web.argv[web.argv.index("--bind") + 1] == "127.0.0.1:8123"
    assert web.argv[web.argv.index("--workers") + 1] == "3"
    assert not web.restart
    assert worker.argv == (PY, "-m", "pheu.cli", "worker") and worker.restart


def test_plan_runs_threads_in_each_web_process_when_asked():
    web = plan_serve(host="127.0.0.1", port=8123, workers=2, threads=4, worker=False).children[0]
    assert web.argv[web.argv.index("--threads") + 1] == "4"
    default = plan_serve(host="127.0.0.1", port=8123, workers=2, worker=False).children[0]
    assert default.argv[default.argv.index("--threads") + 1] == "1"


def test_plan_brackets_ipv6_and_shows_a_reachable_url_for_wildcards():
    assert "[::1]:8000" in plan_serve(host="::1", port=8000, workers=1, worker=False).children[0].argv
    wildcard = plan_serve(host="0.0.0.0", port=8000, workers=1, worker=False)
    assert wildcard.url == "http://127.0.0.1:8000/" and len(wildcard.children) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("backend", "args", "labels"),
    [
        ("database", [], ["web", "worker"]),
        ("database", ["--no-worker"], ["web"]),
        ("immediate", [], ["web"]),
        ("redis", [], ["web"]),  # the workers are `pheu worker` processes, on any machine
    ],
)
def test_serve_runs_the_worker_only_with_the_embedded_database_queue(
    settings, monkeypatch, backend, args, labels
):
    settings.PHEU_TASKS_BACKEND = backend
    started: list[list[ChildSpec]] = []

    class FakeSupervisor:
        def __init__(self, children: list[ChildSpec]) -> None:
            started.append(list(children))

        def run(self) -> int:
            return 0

    monkeypatch.setattr(serve, "Supervisor", FakeSupervisor)
    out = StringIO()
    with translation.override("en"):
        call_command("serve", "--port", "8765", *args, stdout=out, skip_checks=True)
    assert [child.label for child in started[0]] == labels
    assert "http://127.0.0.1:8765/" in out.getvalue()


def _supervise(children: list[ChildSpec]) -> subprocess.Popen[bytes]:
    code = (
        "import sys; from pheu.core.serving import Supervisor; sys.exit(Supervisor(eval(sys.argv[1])).run())"
    )
    spec = (
        "["
        + ", ".join(
            f"__import__('pheu.core.serving').core.serving.ChildSpec({c.label!r}, {c.argv!r}, {c.restart!r})"
            for c in children
        )
        + "]"
    )
    return subprocess.Popen([PY, "-c", code, spec])


def _child(script: str, *args: str) -> tuple[str, ...]:
    return (PY, "-c", script, *args)


APPEND_AND_SLEEP = "import os, sys, time; open(sys.argv[1], 'a').write(f'{os.getpid()}\\n'); time.sleep(60)"
APPEND_AND_EXIT = "import os, sys; open(sys.argv[1], 'a').write(f'{os.getpid()}\\n'); sys.exit(3)"


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_supervisor_restarts_the_worker_and_stops_everything_on_sigterm(tmp_path: Path):
    web_log, worker_log = tmp_path / "web", tmp_path / "worker"
    supervisor = _supervise(
        [
            ChildSpec("web", _child(APPEND_AND_SLEEP, str(web_log))),
            ChildSpec("worker", _child(APPEND_AND_EXIT, str(worker_log)), restart=True),
        ]
    )
    try:
        wait_for(lambda: len(_pids(worker_log)) >= 2, timeout=20, what="the worker to be restarted")
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=20) == 0
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    assert len(_pids(web_log)) == 1 and not _alive(_pids(web_log)[0])


def test_supervisor_stops_when_the_web_server_exits_and_passes_on_its_status(tmp_path: Path):
    worker_log = tmp_path / "worker"
    supervisor = _supervise(
        [
            ChildSpec("web", _child("import sys, time; time.sleep(1); sys.exit(5)")),
            ChildSpec("worker", _child(APPEND_AND_SLEEP, str(worker_log)), restart=True),
        ]
    )
    assert supervisor.wait(timeout=20) == 5
    assert len(_pids(worker_log)) == 1 and not _alive(_pids(worker_log)[0])


def _get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def test_serve_answers_healthz_with_its_worker_and_stops_on_sigterm(process_database: Path, tmp_path: Path):
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*PHEU, "serve", "--port", str(port), "--workers", "1"],
        env=process_env(process_database, tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        # "ok" only once the worker started beside gunicorn has written its heartbeat.
        body = wait_for(
            lambda: (b := _get_json(url)) and b["status"] == "ok" and b,
            timeout=40,
            what="/healthz to report ok",
        )
        assert body["database"] == {"ok": True, "vendor": "sqlite"}  # type: ignore[index]  # the JSON body: a dict
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
    finally:
        if server.poll() is None:
            server.kill()
        log.close()
    time.sleep(0.2)
    assert _get_json(url) is None  # gunicorn is gone
    assert (
        read_rows(process_database, "SELECT name FROM core_workerheartbeat") == []
    )  # the worker stopped cleanly
    output = (tmp_path / "serve.log").read_text()
    assert f"http://127.0.0.1:{port}/" in output
