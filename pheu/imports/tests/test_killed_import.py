"""An import killed with SIGKILL half-way (SPEC 3 and 14), through the ``pheu import`` command as an operator
runs it: no half-written row stays behind — every stored lead is whole (its keys, its score row, its one
"created" history entry) — and the same command run again ends with the same records as an import that was
never interrupted (external ids: nothing twice, nothing missing)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pheu.core.tests.processes import PHEU, process_env, read_rows

ROWS = 5_000


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "pheu.sqlite3"
    subprocess.run(
        [*PHEU, "migrate", "--noinput", "-v0"], env=process_env(path, tmp_path), check=True, timeout=180
    )
    return path


def _write_file(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email", "City", "external_id"])
        for n in range(ROWS):
            writer.writerow([f"Khách hàng {n}", f"khach{n}@congty{n % 97}.vn", "Hà Nội", f"crm-{n}"])
    return path


def _leads(database: Path) -> list[tuple]:
    return read_rows(
        database, "SELECT external_id, name, email_normalized, city FROM leads_lead ORDER BY external_id"
    )


def _assert_whole(database: Path) -> None:
    """Every stored lead has its keys, its score row and one "created" entry: nothing half-written."""
    leads = read_rows(database, "SELECT COUNT(*) FROM leads_lead")[0][0]
    assert read_rows(
        database, "SELECT COUNT(*) FROM leads_lead WHERE email_normalized = '' OR name_key = ''"
    ) == [(0,)]
    assert read_rows(database, "SELECT COUNT(*) FROM leads_leadscore") == [(leads,)]
    created = read_rows(
        database,
        "SELECT COUNT(DISTINCT h.object_id), COUNT(*) FROM core_historyentry h JOIN django_content_type t "
        "ON t.id = h.content_type_id WHERE t.app_label = 'leads' AND t.model = 'lead' AND h.kind = 'created'",
    )
    assert created == [(leads, leads)]


@pytest.mark.timeout(900)
def test_an_import_killed_half_way_leaves_whole_rows_and_runs_again_to_the_same_result(database, tmp_path):
    """The same file imported without interruption into a fresh database is the reference."""
    env = process_env(database, tmp_path)
    path = _write_file(tmp_path / "leads.csv")
    importing = subprocess.Popen(
        [*PHEU, "import", "leads", str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    # Half-way: the run has started (its status is committed before its transaction begins) and is inside
    # its transaction, which holds every record until its commit (5,000 rows take a second or more).
    while importing.poll() is None and time.monotonic() < deadline:
        if read_rows(database, "SELECT COUNT(*) FROM imports_import WHERE status = 'running'")[0][0]:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    os.kill(importing.pid, signal.SIGKILL)
    importing.wait(timeout=30)
    assert importing.returncode == -signal.SIGKILL, "the import ended before it could be killed"
    halfway = read_rows(database, "SELECT COUNT(*) FROM leads_lead")[0][0]
    assert halfway < ROWS, "the import was done when it was killed"
    _assert_whole(database)

    again = subprocess.run(
        [*PHEU, "import", "leads", str(path)], env=env, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr[-2000:]
    _assert_whole(database)

    clean = tmp_path / "clean"
    clean.mkdir()
    clean_db = clean / "pheu.sqlite3"
    subprocess.run(
        [*PHEU, "migrate", "--noinput", "-v0"], env=process_env(clean_db, clean), check=True, timeout=180
    )
    subprocess.run(
        [*PHEU, "import", "leads", str(path)], env=process_env(clean_db, clean), check=True, timeout=600
    )
    assert len(_leads(database)) == ROWS
    assert _leads(database) == _leads(clean_db)
