"""Helpers for tests that run ``pheu`` commands as real processes, on their own SQLite file."""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

PHEU = (sys.executable, "-m", "pheu.cli")


def process_env(database: Path, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHEU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="pheu.settings",
        PHEU_DATABASE_URL=f"sqlite:///{database}",
        PHEU_VAR_DIR=str(var_dir),
        PHEU_TASKS_BACKEND="database",
        PYTHONUNBUFFERED="1",
    )
    return env


def read_rows(database: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(database, timeout=10)) as conn:
        return list(conn.execute(sql))


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
