"""The scratch database of the benchmarks: made empty before a run, and again between the bases of one."""

from __future__ import annotations

import os
from urllib.parse import urlsplit


def prepare_database(url: str) -> None:
    """Drop and create the PostgreSQL database of ``url``, or delete the SQLite file (and its WAL)."""
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        import psycopg

        name = parts.path.lstrip("/")
        admin = url[: -len(parts.path)] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    elif parts.scheme == "sqlite":
        path = parts.path[1:]  # as dj_database_url reads it: sqlite:///var/x relative, sqlite:////x absolute
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def reset_database() -> None:
    """An empty, migrated bench database again, from inside a running benchmark (Django set up)."""
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    prepare_database(os.environ["PHEU_DATABASE_URL"])
    call_command("migrate", verbosity=0)
