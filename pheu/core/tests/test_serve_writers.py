"""The embedded default under concurrent writers (SPEC 14): 8 clients × 300 creates through the API of
``pheu serve`` on its SQLite file — not one error. WAL lets readers go on while one writes, every transaction
takes the write lock at its start (IMMEDIATE: no "database is locked" half-way through a transaction, which
no busy timeout can save) and waits its turn for up to the busy timeout (``pheu.settings``)."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pheu.core.tests.processes import PHEU, free_port, process_env, read_rows, wait_for

CLIENTS, EACH = 8, 300

MAKE_TOKEN = """
from rest_framework.authtoken.models import Token
from pheu.accounts.models import Role, User
user = User.objects.create_user("integration", password="x-long-password", role=Role.SALES_MANAGER)
print(Token.objects.create(user=user).key)
"""


def _post(url: str, token: str, body: dict) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.timeout(900)  # 2,400 creates, one writer at a time: 5 minutes on a busy shared machine
def test_eight_clients_creating_at_once_against_pheu_serve_on_sqlite_get_no_error(
    process_database: Path, tmp_path: Path
):
    env = process_env(process_database, tmp_path)
    assert read_rows(process_database, "PRAGMA journal_mode") == [
        ("wal",)
    ]  # set by the migrations' connection
    token = subprocess.run(
        [*PHEU, "shell", "-c", MAKE_TOKEN], env=env, check=True, capture_output=True, text=True, timeout=120
    ).stdout.split()[-1]  # after the shell's own banner
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*PHEU, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    statuses: list[int] = []
    lock = threading.Lock()
    try:
        wait_for(lambda: _alive(f"{base}/healthz"), timeout=60, what="pheu serve to answer")
        barrier = threading.Barrier(CLIENTS)

        def client(index: int) -> None:
            barrier.wait()
            for n in range(EACH):
                body = {"name": f"Khách {index}-{n}", "email": f"c{index}.{n}@congty.vn", "company_size": 20}
                try:
                    status = _post(f"{base}/api/v1/leads/", token, body)
                except Exception:  # refused, reset, timed out: an error too
                    status = 0
                with lock:
                    statuses.append(status)

        threads = [threading.Thread(target=client, args=(index,)) for index in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    finally:
        server.terminate()
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    errors = [status for status in statuses if status != 201]
    assert len(statuses) == CLIENTS * EACH
    assert errors == [], (
        f"{len(errors)} errors: {sorted(set(errors))}; log: {(tmp_path / 'serve.log').read_text()[-2000:]}"
    )
    assert read_rows(process_database, "SELECT COUNT(*) FROM leads_lead") == [(CLIENTS * EACH,)]


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answers (503 while the worker starts)
    except OSError:
        return False
