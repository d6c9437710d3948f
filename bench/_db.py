"""The scratch database of the benchmarks: made empty before a run, and again between the bases of one."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

# ``python -m bench --reuse``: the database is kept as it is, and a benchmark that can (``filled_base``)
# reuses the base an earlier run of the same size left in it instead of filling it again.
REUSE = False
# The base filled: benchmark name, size, when (a table of the bench's own, not one of Django's).
MARKS = "bench_base"


def prepare_database(url: str, *, keep: bool = False) -> None:
    """Drop and create the PostgreSQL database of ``url``, or delete the SQLite file (and its WAL); with
    ``keep``, only create the PostgreSQL database when it is missing."""
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        import psycopg

        name = parts.path.lstrip("/")
        admin = url[: -len(parts.path)] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            if keep and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    elif parts.scheme == "sqlite" and not keep:
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


def filled_base(name: str, n: int) -> str | None:
    """With ``--reuse``: when the database holds the base ``name`` of ``n`` rows that an earlier run filled,
    the time it was filled (ISO 8601); None otherwise — and then, when the database is not empty (another
    base, another size, an interrupted fill), it is made empty and migrated again, for a fresh fill."""
    from django.db import connection

    if not REUSE:
        return None
    if MARKS in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT filled_at FROM {MARKS} WHERE name = %s AND n = %s", [name, n])
            row = cursor.fetchone()
        if row is not None:
            return str(row[0])
    reset_database()
    return None


def mark_filled(name: str, n: int) -> None:
    """Record that the database now holds the base ``name`` of ``n`` rows (what ``--reuse`` looks for)."""
    import datetime as dt

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKS} (name varchar(100), n bigint, filled_at varchar(40))"
        )
        cursor.execute(f"DELETE FROM {MARKS}")
        cursor.execute(
            f"INSERT INTO {MARKS} (name, n, filled_at) VALUES (%s, %s, %s)",
            [name, n, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")],
        )
