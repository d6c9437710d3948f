"""Fixtures for tests that run ``pheu`` commands as real processes (helpers in ``processes``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pheu.core.tests.processes import PHEU, process_env


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once per test session (about a second)."""
    folder = tmp_path_factory.mktemp("pheu-process")
    database = folder / "template.sqlite3"
    subprocess.run(
        [*PHEU, "migrate", "--noinput", "-v0"], env=process_env(database, folder), check=True, timeout=120
    )
    return database


@pytest.fixture
def process_database(migrated_database: Path, tmp_path: Path) -> Path:
    """A private copy of the migrated database for one test."""
    database = tmp_path / "pheu.sqlite3"
    database.write_bytes(migrated_database.read_bytes())
    return database
