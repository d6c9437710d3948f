"""Imports of leads and opportunities: upload and map a file, run it (streamed, set-based), revert it.

The intake path of every imported row is the one of a record created by hand — normalise, flag
duplicates, score, assign — done for all rows at once: rows are read and normalised in Python while they
stream (``rows.RowReader``), then written in bulk. On PostgreSQL they are COPYed into a temporary staging
table and moved into the leads with ``INSERT … SELECT``; elsewhere they are inserted in batches. Then, for
all rows at once: one history entry "created" per new record, the duplicate flags (another record with the
same normalised e-mail, phone or mobile), scoring (``refresh_leads``) and assignment (``assign_leads``).

A run is one transaction: a database failure leaves nothing behind (run it again). Rows with errors (the
record cannot exist: see ``rows``) are reported (row, column, value, reason — a code, worded when read: see
``reasons``) and the others imported — or,
``atomic``, nothing is imported when any row has an error. A value that could not be normalised (an invalid
e-mail or phone, an unknown country…) never costs the row: it is imported, and the value reported as a
warning. Columns mapped to no field are listed as not imported (:func:`unmapped_columns`).
A dry run does all the work and rolls it back, so its counts are the real ones.
Re-importing a file with an ``external_id`` column updates the records with those ids (only the columns
the file has) instead of creating them again. An import is reverted as a whole — its new records deleted,
updated ones given back their previous values — only while none of them was changed since.
"""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files import File
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Exists, Field, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pheu.core.models import HistoryEntry, HistoryKind, PheuSettings
from pheu.imports.choices import ImportKind, ImportStatus, IssueLevel, LineAction
from pheu.imports.exceptions import ImportsError
from pheu.imports.keys import Keys
from pheu.imports.mapping import FIELDS, guess_mapping
from pheu.imports.models import Import, ImportIssue, ImportLine
from pheu.imports.readers import FileInfo, open_rows, sniff
from pheu.imports.reasons import Reason
from pheu.imports.rows import NAME_SOURCES, ParsedRow, RowErrors, RowReader
from pheu.imports.writes import CHUNK, KEY_ATTNAMES, RESTORED_ATTNAMES, flag_duplicates, writer_for
from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead
from pheu.scoring.services import refresh_leads
from pheu.teams.models import Team

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
POOL_MIN_ROWS = 5_000  # rows of a file from which its keys may be computed in worker processes
POOL_WORKERS = 4
PREVIEW_ROWS = 10
Progress = Callable[["Counters"], None]


def _can_import(actor: Any) -> bool:
    """Importing writes records for everybody: sales managers and administrators (and operators: None)."""
    return actor is None or bool(getattr(actor, "sees_all_records", False))


def _check_actor(actor: Any) -> None:
    if not _can_import(actor):
        raise ImportsError(_("Only sales managers and administrators import files."), code="forbidden")


def _check_mapping(headers: Sequence[str], mapping: dict[str, str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    errors: list[str] = []
    for position, name in mapping.items():
        if not name:
            continue
        if not str(position).isdigit() or int(position) >= len(headers) or name not in FIELDS:
            errors.append(
                _("Column %(column)s cannot hold “%(field)s”.") % {"column": position, "field": name}
            )
        elif name in clean.values():
            errors.append(_("Two columns are mapped to “%(field)s”.") % {"field": name})
        else:
            clean[str(position)] = name
    if not {"name", *NAME_SOURCES} & set(clean.values()):
        errors.append(
            _(
                "No column holds the name of the record (a header such as “Name” or “Tên”), nor a contact, "
                "company, e-mail or phone to make one from."
            )
        )
    if errors:
        raise ImportsError(code=ImportsError.Code.NO_NAME_COLUMN, field_errors={"mapping": errors})
    return clean


# --- upload, mapping, preview ------------------------------------------------------------------------
@transaction.atomic
def upload_import(
    *, actor: Any, upload: IO[bytes], file_name: str, kind: str = ImportKind.LEADS, team: Team | None = None
) -> Import:
    """Store an uploaded file and read its header: the import waits, mapped by its headers, for
    :func:`start_import`. Raises :class:`ImportsError` for a file that cannot be read or names no field."""
    _check_actor(actor)
    run = Import(kind=kind, file_name=Path(file_name).name[:255], team=team, created_by=actor)
    run.file.save(run.file_name, File(upload, name=run.file_name), save=False)
    try:
        _describe(run, Path(run.file.path))
    except ImportsError:
        run.file.delete(save=False)
        raise
    run.save()
    return run


def _describe(run: Import, path: Path) -> None:
    info = sniff(path)
    with open_rows(path, info) as (headers, _rows):
        pass
    run.file_format, run.encoding, run.delimiter = info.format, info.encoding, info.delimiter
    run.headers = headers
    run.mapping = guess_mapping(headers)
    _check_mapping(headers, run.mapping)


def unmapped_columns(run: Import) -> list[str]:
    """The headers of the columns mapped to no field: they are not imported (shown in the preview and the
    report, so that no column is left out unseen). A column without a header between others is named by
    its number; empty columns after the last header are no columns."""
    mapped = {int(position) for position in run.mapping}
    headers = [str(header).strip() for header in run.headers]
    while headers and not headers[-1]:
        headers.pop()
    return [
        header or _("Column %(n)s") % {"n": position + 1}
        for position, header in enumerate(headers)
        if position not in mapped
    ]


def preview_import(*, import_run: Import, limit: int = PREVIEW_ROWS) -> list[tuple[int, list[str]]]:
    """The first ``limit`` rows of the file (row number, cells as text), for the mapping page."""
    rows: list[tuple[int, list[str]]] = []
    with open_rows(Path(import_run.file.path), _info(import_run)) as (headers, data):
        for number, cells in data:
            texts = ["" if cell is None else str(cell) for cell in cells]
            rows.append((number, (texts + [""] * len(headers))[: len(headers)]))
            if len(rows) >= limit:
                break
    return rows


def _info(run: Import) -> FileInfo:
    return FileInfo(format=run.file_format, encoding=run.encoding, delimiter=run.delimiter)


@transaction.atomic
def start_import(
    *,
    actor: Any,
    import_run: Import,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    atomic: bool = False,
) -> Import:
    """Queue the import (a background task runs it): with ``mapping`` (column position → field) when the
    user changed the guessed one. An import already run may be started again only after a dry run or a
    failure (see :func:`runnable`)."""
    _check_actor(actor)
    run = Import.objects.select_for_update().get(pk=import_run.pk)
    if not runnable(run):
        raise ImportsError(_("This import has already been run."), code=ImportsError.Code.NOT_RUNNABLE)
    run.mapping = _check_mapping(run.headers, mapping if mapping is not None else run.mapping)
    run.dry_run, run.atomic, run.status = dry_run, atomic, ImportStatus.QUEUED
    run.save()
    from pheu.imports.tasks import run_import_task

    transaction.on_commit(lambda: run_import_task.enqueue(run.pk))
    return run


# --- running ---------------------------------------------------------------------------------------
def import_file(
    *,
    actor: Any,
    path: Path,
    kind: str = ImportKind.LEADS,
    team: Team | None = None,
    dry_run: bool = False,
    atomic: bool = False,
    progress: Progress | None = None,
) -> Import:
    """Import a file read in place (the command line): map it by its headers and run it now."""
    _check_actor(actor)
    if not path.is_file():
        raise ImportsError(_("No such file: %(path)s") % {"path": path}, code=ImportsError.Code.UNREADABLE)
    run = Import(
        kind=kind, file_name=path.name[:255], team=team, created_by=actor, dry_run=dry_run, atomic=atomic
    )
    _describe(run, path)
    run.mapping = _check_mapping(run.headers, run.mapping)
    run.status = ImportStatus.QUEUED
    run.save()
    return run_import(import_run=run, path=path, progress=progress)


@dataclass
class Counters:
    """Where a running import is: rows read, rows the file holds (estimated from its size until it is read),
    the step it is at, and when it started. The command line and the page show the same figures
    (:meth:`figures`)."""

    rows: int = 0
    total: int = 0
    phase: str = "read"
    started: float = field(default_factory=time.time)

    def figures(self, now: float | None = None) -> tuple[float, float | None]:
        """``(rows per second, seconds left)``; seconds left is None until it can be told."""
        elapsed = max((now or time.time()) - self.started, 1e-6)
        rate = self.rows / elapsed
        if self.phase != "read" or not self.total or not rate:
            return rate, None
        return rate, max(self.total - self.rows, 0) / rate

    def as_dict(self) -> dict[str, Any]:
        rate, left = self.figures()
        return {
            "rows": self.rows,
            "total": max(self.total, self.rows),
            "phase": self.phase,
            "rows_per_second": round(rate, 1),
            "seconds_left": None if left is None else round(left, 1),
        }


PHASES = {
    "read": gettext_lazy("Reading and checking the rows"),
    "write": gettext_lazy("Writing the records"),
    "duplicates": gettext_lazy("Finding possible duplicates"),
    "scoring": gettext_lazy("Scoring the records"),
    "assignment": gettext_lazy("Assigning the records"),
}


def progress_text(counters: Counters) -> str:
    """ "12,000 of about 100,000 rows · 9,500 rows/s · about 9 s left" (the command line and the page)."""
    rate, left = counters.figures()
    parts = [
        _("%(rows)s of about %(total)s rows") % {"rows": f"{counters.rows:,}", "total": f"{counters.total:,}"}
        if counters.total and counters.phase == "read"
        else _("%(rows)s rows") % {"rows": f"{counters.rows:,}"},
        _("%(rate)s rows/s") % {"rate": f"{rate:,.0f}"},
    ]
    if left is not None:
        parts.append(_("about %(seconds)s s left") % {"seconds": f"{left:,.0f}"})
    return " · ".join(parts)


def estimate_rows(path: Path, info: FileInfo) -> int:
    """The data rows of the file, estimated without reading it as rows: its line breaks (CSV), the size
    the sheet declares (XLSX). For progress only."""
    try:
        if info.format == "xlsx":
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True)
            try:
                return max((book.active.max_row or 1) - 1, 0)
            finally:
                book.close()
        lines = 0
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
        return max(lines - 1, 0)
    except Exception:  # an estimate: a file that cannot be read fails where it is read
        return 0


class _Progress:
    """The counters of a run, visible outside the import's transaction: in the cache (the in-process
    worker) and, on PostgreSQL, written by a second connection every few seconds (a separate worker)."""

    def __init__(self, run: Import, callback: Progress | None, total: int = 0) -> None:
        self.run, self.callback, self.last = run, callback, 0.0
        self.counters = Counters(total=total)
        self.side: Any = None  # the second connection (PostgreSQL), opened at the first write

    @staticmethod
    def key(pk: int) -> str:
        return f"pheu:imports:{pk}:progress"

    def phase(self, name: str) -> None:
        self.counters.phase = name
        self.last = 0.0
        self(self.counters.rows)

    def __call__(self, rows: int) -> None:
        self.counters.rows = rows
        if self.callback:
            self.callback(self.counters)
        now = time.monotonic()
        if now - self.last < 1:
            return
        self.last = now
        cache.set(self.key(self.run.pk), self.counters.as_dict(), 3600)
        if connection.vendor == "postgresql":
            try:
                if self.side is None:
                    self.side = connections.create_connection("default")
                with self.side.cursor() as cursor:
                    cursor.execute(
                        "UPDATE imports_import SET processed_rows = %s, total_rows = %s WHERE id = %s",
                        [rows, max(self.counters.total, rows), self.run.pk],
                    )
            except DatabaseError:  # progress is a courtesy: never fail an import for it
                logger.warning("import %s: progress not written", self.run.pk, exc_info=True)

    def close(self) -> None:
        cache.delete(self.key(self.run.pk))
        if self.side is not None:
            self.side.close()


def progress_of(run: Import) -> int:
    """Rows read so far by a running import."""
    return progress_counters(run).rows


def progress_counters(run: Import) -> Counters:
    """The counters of a running import (those of its worker's cache when it shares it, else the rows
    and estimate the run's row holds)."""
    stored = cache.get(_Progress.key(run.pk))
    started = run.started_at.timestamp() if run.started_at else time.time()
    counters = Counters(rows=run.processed_rows, total=run.total_rows, started=started)
    if isinstance(stored, dict) and stored.get("rows", 0) >= counters.rows:
        counters.rows, counters.phase = stored["rows"], stored.get("phase", "read")
        counters.total = max(stored.get("total", 0), counters.total)
    return counters


class _Rollback(Exception):
    pass


def run_import(*, import_run: Import, path: Path | None = None, progress: Progress | None = None) -> Import:
    """Run a queued import now (the task and the command line call this). Returns it finished: ``DONE``
    (see the counts and issues) or ``FAILED`` (``message`` says why; nothing was written)."""
    run = import_run
    path = path or Path(run.file.path)
    run.status, run.started_at = ImportStatus.RUNNING, timezone.now()  # kept by the final save too
    Import.objects.filter(pk=run.pk).update(status=run.status, started_at=run.started_at)
    tick = _Progress(run, progress, total=estimate_rows(path, _info(run)))
    counts = {"total": 0, "errors": 0, "warnings": 0, "created": 0, "updated": 0, "duplicates": 0}
    failure: Reason | str = ""  # a failure without a code of its own: its message, as worded now
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        issues = csv.writer(spool)
        try:
            with transaction.atomic():
                _run(run, path, counts, issues, tick)
                if run.dry_run or (run.atomic and counts["errors"]):
                    raise _Rollback
        except _Rollback:
            pass
        except ImportsError as exc:
            failure = exc.reason or exc.message or str(exc)
        except DatabaseError as exc:
            logger.exception("import %s failed", run.pk)
            error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            failure = Reason("database_stopped", {"error": error})
        finally:
            tick.close()
        written = not failure and not run.dry_run and not (run.atomic and counts["errors"])
        if not written and not run.dry_run:
            counts["created"] = counts["updated"] = 0
        if run.atomic and counts["errors"] and not failure:
            _set_message(run, Reason("nothing_imported", {"n": counts["errors"]}))
        else:
            _set_message(run, failure)
        run.status = ImportStatus.FAILED if failure else ImportStatus.DONE
        run.total_rows = run.processed_rows = counts["total"]
        run.error_count, run.duplicate_count = counts["errors"], counts["duplicates"]
        run.warning_count = counts["warnings"]
        run.created_count, run.updated_count = counts["created"], counts["updated"]
        run.finished_at = timezone.now()
        with transaction.atomic():
            run.issues.all().delete()
            run.save()
            spool.seek(0)
            batch: list[ImportIssue] = []
            for level, row, column, value, code, params in csv.reader(spool):
                batch.append(
                    ImportIssue(
                        import_run=run,
                        level=level,
                        row=int(row),
                        column=column,
                        value=value,
                        code=code,
                        params=json.loads(params),
                    )
                )
                if len(batch) >= BATCH_SIZE:
                    ImportIssue.objects.bulk_create(batch)
                    batch = []
            ImportIssue.objects.bulk_create(batch)
    return run


def _set_message(run: Import, message: Reason | str) -> None:
    """Keep ``message`` on the run: a reason as its code (worded when read), a text as it is."""
    if isinstance(message, Reason):
        run.message_code, run.message_params, run.message_text = message.code, message.as_json(), ""
    else:
        run.message_code, run.message_params, run.message_text = "", {}, message


def _spool_issue(issues: Any, level: str, row: int, column: str, value: str, reason: Reason) -> None:
    issues.writerow([level, row, column, value[:1000], reason.code, json.dumps(reason.as_json())])


class _Steps:
    """Seconds spent by each step of a run (``run.step_seconds`` afterwards: for the benchmark, logs)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self.last
        self.last = now


def _run(run: Import, path: Path, counts: dict[str, int], issues: Any, tick: _Progress) -> None:
    steps = _Steps()
    run.step_seconds = steps.seconds  # type: ignore[attr-defined]
    run.lines.all().delete()  # a real run after a dry run
    actor = run.created_by
    with open_rows(path, _info(run)) as (headers, rows):
        reader = RowReader(kind=run.kind, headers=headers, mapping=run.mapping, team=run.team, actor=actor)
        writer = writer_for(run)
        writer.keys = reader.keys  # the update path re-keys records with the same memoised functions
        with _key_pool(tick.counters.total) as pool:
            _read(reader.read_all(rows, pool=pool), writer, counts, issues, tick)
    tick.counters.total = counts["total"]
    steps.mark("read")
    if run.atomic and counts["errors"] and not run.dry_run:
        return
    tick.phase("write")

    writer.mark = steps.mark  # the writer's own steps (PostgreSQL: scoring and assignment when staged)
    counts["created"], counts["updated"] = writer.finish()
    steps.mark("write")
    tick.phase("duplicates")
    # The lines of records created by a writer that flagged them as it wrote them are flagged already.
    counts["duplicates"] = flag_duplicates(run, action=LineAction.UPDATED if writer.flagged else None)
    steps.mark("duplicates")
    tick.phase("scoring")
    if counts["created"] or counts["updated"]:
        _score(run, created=not writer.scored)
    steps.mark("scoring")
    tick.phase("assignment")
    if counts["created"] and not writer.assigned:
        _assign(run)
    steps.mark("assignment")


def _read(
    results: Iterator[ParsedRow | RowErrors],
    writer: Any,
    counts: dict[str, int],
    issues: Any,
    tick: _Progress,
) -> None:
    """Count and report the rows read (errors and warnings into the issues' spool), hand the others to
    the writer."""
    for result in results:
        counts["total"] += 1
        if isinstance(result, RowErrors):
            counts["errors"] += 1
            for column, value, reason in result.problems:
                _spool_issue(issues, IssueLevel.ERROR, result.row, column, value, reason)
        else:
            if result.warnings:
                counts["warnings"] += 1
                for column, value, reason in result.warnings:
                    _spool_issue(issues, IssueLevel.WARNING, result.row, column, value, reason)
            writer.add(result)
        if counts["total"] % 1000 == 0:
            tick(counts["total"])


@contextmanager
def _key_pool(rows: int) -> Iterator[Executor | None]:
    """Worker processes computing the rows' keys while the import reads on (``RowReader.read_all``), where
    they pay: a file of at least :data:`POOL_MIN_ROWS` rows, on a machine with a core to spare (several
    cores, a load average below their number: on busy cores the workers only add the cost of sending the
    rows). Forked, they inherit the loaded code and settings; they never touch the database."""
    cores = os.cpu_count() or 1
    workers = min(cores, POOL_WORKERS)
    if (
        rows < POOL_MIN_ROWS
        or workers < 2
        or os.getloadavg()[0] > cores - 1
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        yield None
        return
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_start,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start(parent: int) -> None:
    """A key worker ends with the import's process, even killed (SIGKILL): it holds a copy of the
    database connection's socket, which would keep the killed import's transaction open. Linux: the
    kernel's parent-death signal; elsewhere, a thread watching the parent."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, daemon=True).start()


def _line_ids(run: Import, *, action: str | None = None) -> Iterator[list[int]]:
    """The ids of the records the import wrote (``action``: only those created or updated), in chunks of
    :data:`CHUNK` ids read by ranges of the index, never all at once."""
    lines = ImportLine.objects.filter(import_run=run)
    if action:
        lines = lines.filter(action=action)
    last = 0
    while ids := list(
        lines.filter(lead_id__gt=last).order_by("lead_id").values_list("lead_id", flat=True)[:CHUNK]
    ):
        yield ids
        last = ids[-1]


def _score(run: Import, *, created: bool = True) -> None:
    """Re-score the written records (one UPDATE over a subquery of the import's lines; ``created``
    False: the updated ones only, the new ones were scored as they were written), then keep the
    predictive model's samples true for those that may be closed: all updated records, new closed ones."""
    from pheu.scoring.services.prediction import refresh_samples

    lines = ImportLine.objects.filter(import_run=run)
    if not created:
        lines = lines.filter(action=LineAction.UPDATED)
    refresh_leads(lead_ids=lines.values("lead_id"), outcome_may_change=False)
    for ids in _line_ids(run, action=LineAction.UPDATED):
        refresh_samples(lead_ids=ids)
    closed = Lead.objects.filter(
        pk__in=ImportLine.objects.filter(import_run=run, action=LineAction.CREATED).values("lead_id")
    ).exclude(won_status=WonStatus.OPEN)
    for ids in _chunks(closed.order_by().values_list("pk", flat=True).iterator(chunk_size=CHUNK), CHUNK):
        refresh_samples(lead_ids=ids)


def _assign(run: Import) -> None:
    """Assign the new records as a record created by hand is: when real-time assignment is on (else the
    teams' scheduled runs take them), :data:`CHUNK` records at a time."""
    from pheu.assignment.models import AssignmentTrigger
    from pheu.assignment.services import assign_leads

    if not PheuSettings.load().realtime_assignment:
        return
    for ids in _line_ids(run, action=LineAction.CREATED):
        assign_leads(actor=None, lead_ids=ids, trigger=AssignmentTrigger.IMPORT)


# --- revert ----------------------------------------------------------------------------------------
def touched_records(run: Import, *, limit: int = 10) -> list[Lead]:
    """Records of the import changed since it finished (by anyone: a field, a note, an activity…).

    A later import that updated them and was itself reverted since does not count: its revert gave the
    records back their values and their time of change, and the history entries it and its revert wrote
    (system entries within its run, or at its revert) are known as its own."""
    ids = ImportLine.objects.filter(import_run=run).values("lead_id")
    changed = Lead.objects.filter(pk__in=ids, updated_at__gt=run.finished_at).order_by()
    undone = ImportLine.objects.filter(
        lead_id=OuterRef("object_id"),
        import_run__status=ImportStatus.REVERTED,
        import_run__finished_at__gt=run.finished_at,
    ).filter(
        Q(
            import_run__started_at__lte=OuterRef("created_at"),
            import_run__finished_at__gte=OuterRef("created_at"),
        )
        | Q(import_run__reverted_at=OuterRef("created_at"))
    )
    noted = (
        HistoryEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Lead),
            object_id__in=ids,
            created_at__gt=run.finished_at,
        )
        .filter(~Q(kind=HistoryKind.SYSTEM) | ~Exists(undone))
        .order_by()
        .values("object_id")
    )
    return list(
        Lead.objects.filter(pk__in=changed.values("pk").union(noted))
        .order_by("pk")
        .only("pk", "name")[:limit]
    )


def runnable(run: Import) -> bool:
    """Whether the import may be started: uploaded, or run before without writing anything (a dry run, or
    a failure: "nothing was imported, run it again") — from its stored file (``pheu import`` keeps none)."""
    if not run.file:
        return False
    return run.status in (ImportStatus.UPLOADED, ImportStatus.FAILED) or (
        run.status == ImportStatus.DONE and run.dry_run
    )


def revertible(run: Import) -> bool:
    return run.status == ImportStatus.DONE and not run.dry_run and (run.created_count + run.updated_count) > 0


@transaction.atomic
def revert_import(*, actor: Any, import_run: Import) -> Import:
    """Undo an import as a whole: delete the records it created, give those it updated their previous
    values and tags back. Refused, naming them, when any of its records was changed since the import."""
    _check_actor(actor)
    run = Import.objects.select_for_update().get(pk=import_run.pk)
    if not revertible(run):
        raise ImportsError(
            _("Only a finished import that wrote records can be reverted."),
            code=ImportsError.Code.NOT_REVERTIBLE,
        )
    touched = touched_records(run)
    if touched:
        names = ", ".join(f"#{lead.pk} {lead.name}" for lead in touched)
        raise ImportsError(
            _("These records were changed since the import, so it cannot be reverted: %(records)s.")
            % {"records": names},
            code=ImportsError.Code.TOUCHED,
        )
    lead_type = ContentType.objects.get_for_model(Lead)
    stamp = timezone.now()  # the revert's entries and ``reverted_at``: a later undo knows them as its own
    created = ImportLine.objects.filter(import_run=run, action=LineAction.CREATED).values_list(
        "lead_id", flat=True
    )
    for chunk in _chunks(created.iterator(chunk_size=BATCH_SIZE)):
        HistoryEntry.objects.filter(content_type=lead_type, object_id__in=chunk).delete()
        Lead.objects.filter(pk__in=chunk).delete()
    updated = ImportLine.objects.filter(import_run=run, action=LineAction.UPDATED).values_list(
        "lead_id", "before"
    )
    restored: list[int] = []
    keys = Keys()
    through = Lead.tags.through
    body = _("The import of “%(file)s” was reverted.") % {"file": run.file_name}
    for chunk in _chunks(updated.iterator(chunk_size=BATCH_SIZE)):
        befores = dict(chunk)
        leads = Lead.objects.select_for_update().in_bulk(list(befores))
        for lead_id, lead in leads.items():
            for attname, value in befores[lead_id].items():
                if attname != "tags":
                    field = Lead._meta.get_field(attname)
                    assert isinstance(field, Field)
                    setattr(lead, attname, None if value is None else field.to_python(value))
            keys.normalize(lead)
        # The time of change too, when the import kept it: as if the import had not been.
        dated = any("updated_at" in befores[lead_id] for lead_id in leads)
        Lead.objects.bulk_update(
            list(leads.values()), [*RESTORED_ATTNAMES, *KEY_ATTNAMES, *(["updated_at"] if dated else [])]
        )
        through.objects.filter(lead_id__in=list(leads)).delete()
        through.objects.bulk_create(
            through(lead_id=lead_id, tag_id=t) for lead_id in leads for t in befores[lead_id]["tags"]
        )
        HistoryEntry.objects.bulk_create(
            HistoryEntry(
                content_type=lead_type,
                object_id=lead_id,
                kind=HistoryKind.SYSTEM,
                author_id=getattr(actor, "pk", None),
                body=body,
                created_at=stamp,
            )
            for lead_id in leads
        )
        restored += list(leads)
    if restored:
        refresh_leads(lead_ids=restored)
    run.status, run.reverted_at = ImportStatus.REVERTED, stamp
    run.save(update_fields=["status", "reverted_at"])
    return run


def _chunks(items: Iterator[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
