"""The writers of an import: the one home of the SQL that writes its records, per database.

An import reads its rows (``rows.RowReader``) and hands each to the writer of its database
(:func:`writer_for`, dispatching on the vendor: :data:`WRITERS`), which writes them set-based:

- **PostgreSQL** (:class:`StagedWriter`): rows are COPYed into a temporary staging table shaped like the
  leads (its ``id`` drawn from the leads' sequence); records found by their external id are updated with
  one ``UPDATE … FROM``; the new ones get their tags, then their scores and assignment decided on the
  staging rows (the scoring rules' and the assignment's own SQL over the staging tables:
  :func:`pheu.core.rows.sql_on_tables`; the assignment's planner), so that each is inserted once with its
  final values (one ``INSERT … SELECT``), its import line with its duplicate flag, its history entry;
- **any database** (:class:`PortableWriter`, SQLite's): batches inserted with the ORM, then the steps of
  the run (duplicates, scoring, assignment) over the stored records.

Both give the same records (``tests/test_writers.py`` runs both on PostgreSQL; ``test_same_rows`` holds
each database to the same stored rows). The SQL both share (the duplicate flags: :func:`duplicates_sql`)
is written once, in SQL both read. Column lists come from the lead model (its concrete fields,
:data:`~pheu.leads.models.KEY_COLUMNS`), never written out.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.assignment.services import ASSIGNED_FIELDS
from pheu.core.models import HistoryEntry, HistoryKind, PheuSettings
from pheu.core.rows import ReadsRealTable
from pheu.imports.choices import LineAction
from pheu.imports.keys import Keys
from pheu.imports.mapping import FIELDS
from pheu.imports.models import Import, ImportLine
from pheu.imports.rows import ParsedRow
from pheu.leads.models import KEY_COLUMNS, Lead, LeadScore

BATCH_SIZE = 2000  # rows per batch of the portable writer (five batches per COPY of the staged one)
CHUNK = 20_000  # ids per call of the set-based steps after the write (scoring samples, assignment)

# Attribute names an update sets for each field of the file (derived values included).
UPDATE_ATTNAMES: dict[str, tuple[str, ...]] = {
    "team": ("team_id",),
    "user": ("user_id", "assigned_at"),
    "country": ("country_id",),
    "campaign": ("campaign_id",),
    "source": ("source_id",),
    "medium": ("medium_id",),
    "stage": ("stage_id", "stage_changed_at", "won_status", "closed_at", "probability", "auto_probability"),
    "probability": ("probability", "auto_probability"),
    "type": ("type", "converted_at"),
    "tags": (),
}
# The columns a revert gives back to an updated record.
RESTORED_ATTNAMES: tuple[str, ...] = tuple(
    dict.fromkeys(a for name in FIELDS for a in UPDATE_ATTNAMES.get(name, (name,)))
)
KEY_ATTNAMES = (*KEY_COLUMNS, "match_keys")


_DUPLICATE_PAIRS = (
    ("email_normalized", "email_normalized"),
    ("phone_e164", "phone_e164"),
    ("phone_e164", "mobile_e164"),
    ("mobile_e164", "phone_e164"),
    ("mobile_e164", "mobile_e164"),
)


def duplicates_sql(records: str) -> str:
    """A query of ``(id, dup)`` for each record of ``records`` (a query of ``id, email_normalized,
    phone_e164, mobile_e164``): ``dup``, the first other record (lowest id) sharing its e-mail, else its
    phone as the other's phone, its phone as the other's mobile, its mobile as the other's phone or as
    the other's mobile (in that order); NULL when none. Set-based — one join per pair of keys, which the
    database plans as index look-ups or a hash join as it finds cheaper — in SQL both databases read."""
    lead = Lead._meta.db_table
    joins = " ".join(
        f"LEFT JOIN (SELECT r.id, MIN(o.id) AS dup FROM r JOIN {lead} o ON o.{theirs} = r.{mine} "
        f"AND o.id <> r.id WHERE r.{mine} <> '' AND o.{theirs} <> '' GROUP BY r.id) d{i} ON d{i}.id = r.id"
        for i, (mine, theirs) in enumerate(_DUPLICATE_PAIRS)
    )
    picks = ", ".join(f"d{i}.dup" for i in range(len(_DUPLICATE_PAIRS)))
    return f"WITH r AS ({records}) SELECT r.id, COALESCE({picks}) AS dup FROM r {joins}"


def flag_duplicates(run: Import, *, action: str | None = None) -> int:
    """Flag each written record (``action``: only those created or updated) having another record with
    the same e-mail, phone or mobile key (set-based: one UPDATE from :func:`duplicates_sql`); how many
    records of the run are flagged."""
    lead = Lead._meta.db_table
    line = ImportLine._meta.db_table
    only = " AND i.action = %s" if action else ""
    records = (
        f"SELECT l.id, l.email_normalized, l.phone_e164, l.mobile_e164 FROM {lead} l "
        f"JOIN {line} i ON i.lead_id = l.id WHERE i.import_run_id = %s{only}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {line} SET duplicate_of_id = d.dup FROM ({duplicates_sql(records)}) d "
            f"WHERE {line}.lead_id = d.id AND {line}.import_run_id = %s",
            [run.pk, *([action] if action else []), run.pk],
        )
    return ImportLine.objects.filter(import_run=run, duplicate_of_id__isnull=False).count()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class Writer:
    """What both writers share: updates of existing records (by external id), done with the ORM in
    batches, since they must keep each record's previous values for a revert."""

    def __init__(self, run: Import) -> None:
        self.run = run
        self.actor_id = run.created_by_id
        self.lead_type = ContentType.objects.get_for_model(Lead)
        self.created = 0
        self.updated = 0
        self.now = timezone.now()
        self.keys = Keys()
        self.update_attnames = tuple(
            dict.fromkeys(a for n in run.mapping.values() for a in UPDATE_ATTNAMES.get(n, (n,)))
        )
        # Whether finish() flagged the duplicates of the new records, scored and assigned them.
        self.flagged = self.scored = self.assigned = False
        self.mark: Callable[[str], None] = lambda step: None  # the run's step clock

    def add(self, row: ParsedRow) -> None:
        """Take one row read (written now or at :meth:`finish`)."""
        raise NotImplementedError

    def finish(self) -> tuple[int, int]:
        """Write what is left; return how many records were created and updated."""
        raise NotImplementedError

    def update(self, rows: list[tuple[ParsedRow, int]]) -> None:
        if not rows:
            return
        ids = [lead_id for _row, lead_id in rows]
        leads = Lead.objects.select_for_update().in_bulk(ids)
        through = Lead.tags.through
        old_tags: dict[int, list[int]] = {}
        for lead_id, tag_id in through.objects.filter(lead_id__in=ids).values_list("lead_id", "tag_id"):
            old_tags.setdefault(lead_id, []).append(tag_id)
        attnames = self.update_attnames
        lines, entries, new_tags, retagged = [], [], [], []
        body = _("Updated by the import of “%(file)s”.") % {"file": self.run.file_name}
        for row, lead_id in rows:
            lead = leads[lead_id]
            before = {a: _jsonable(getattr(lead, a)) for a in (*RESTORED_ATTNAMES, "updated_at")}
            before["tags"] = sorted(old_tags.get(lead_id, []))
            for attname in attnames:
                if attname not in row.left_out:  # a value that could not be read keeps the record's
                    setattr(lead, attname, row.values.get(attname))
            self.keys.normalize(lead)
            lead.updated_at = self.now
            if row.tag_ids is not None:
                retagged.append(lead_id)
                new_tags += [through(lead_id=lead_id, tag_id=t) for t in row.tag_ids]
            lines.append(
                ImportLine(
                    import_run=self.run,
                    row=row.row,
                    lead_id=lead_id,
                    action=LineAction.UPDATED,
                    before=before,
                )
            )
            entries.append(
                HistoryEntry(
                    content_type=self.lead_type,
                    object_id=lead_id,
                    kind=HistoryKind.SYSTEM,
                    author_id=self.actor_id,
                    body=body,
                )
            )
        Lead.objects.bulk_update(list(leads.values()), [*attnames, *KEY_ATTNAMES, "updated_at"])
        through.objects.filter(lead_id__in=retagged).delete()
        through.objects.bulk_create(new_tags)
        ImportLine.objects.bulk_create(lines)
        HistoryEntry.objects.bulk_create(entries)
        self.updated += len(ids)


class PortableWriter(Writer):
    """SQLite (and any database without COPY): batched bulk inserts through the same normaliser."""

    def __init__(self, run: Import) -> None:
        super().__init__(run)
        self.batch: list[ParsedRow] = []

    def add(self, row: ParsedRow) -> None:
        self.batch.append(row)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        external = {row.values["external_id"]: row for row in batch if row.values.get("external_id")}
        existing = (
            dict(Lead.objects.filter(external_id__in=list(external)).values_list("external_id", "pk"))
            if external
            else {}
        )
        self.update([(external[eid], pk) for eid, pk in existing.items()])
        new = [row for row in batch if row.values.get("external_id") not in existing]
        leads = [Lead(**row.values, created_by_id=self.actor_id) for row in new]
        Lead.objects.bulk_create(leads)
        through = Lead.tags.through
        through.objects.bulk_create(
            [
                through(lead_id=lead.pk, tag_id=tag_id)
                for lead, row in zip(leads, new, strict=True)
                for tag_id in row.tag_ids or ()
            ]
        )
        ImportLine.objects.bulk_create(
            ImportLine(import_run=self.run, row=row.row, lead_id=lead.pk, action=LineAction.CREATED)
            for lead, row in zip(leads, new, strict=True)
        )
        HistoryEntry.objects.bulk_create(
            HistoryEntry(
                content_type=self.lead_type,
                object_id=lead.pk,
                kind=HistoryKind.CREATED,
                author_id=self.actor_id,
            )
            for lead in leads
        )
        self.created += len(leads)

    def finish(self) -> tuple[int, int]:
        """Write what is left; return how many records were created and updated."""
        self.flush()
        return self.created, self.updated


def _before_sql(attname: str) -> str:
    """The JSON of column ``attname`` of ``l`` as a revert reads it back (``field.to_python``): numbers
    as text (exact decimals), dates and times in ISO form, the rest as they are."""
    field = next(f for f in Lead._meta.concrete_fields if f.attname == attname)
    if field.get_internal_type() == "DecimalField":
        return f"to_jsonb(l.{field.column}::text)"
    return f"to_jsonb(l.{field.column})"


class StagedWriter(Writer):
    """PostgreSQL: rows are COPYed (normalised) into a temporary staging table shaped like the leads
    table, whose ``id`` draws from the leads' own sequence; ``finish`` moves them with set-based SQL:
    ``INSERT … SELECT`` for new records, ``UPDATE … FROM`` for records found by their external id."""

    STAGE = "pheu_import_stage"
    KEYS = "pheu_import_keys"
    SCORES = "pheu_import_scores"

    def __init__(self, run: Import) -> None:
        super().__init__(run)
        self.fields = [f for f in Lead._meta.concrete_fields if not f.primary_key]
        self.columns = [f.column for f in self.fields]
        # What a row leaves unset takes the model's default, as the portable writer's instances do.
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.defaults.update(created_by_id=self.actor_id, created_at=self.now, updated_at=self.now)
        self.record = operator.itemgetter(*[f.attname for f in self.fields])
        self.batch: list[tuple[Any, ...]] = []
        lead = Lead._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.STAGE}")
            cursor.execute(f"CREATE TEMP TABLE {self.STAGE} (LIKE {lead}) ON COMMIT DROP")
            cursor.execute(
                f"ALTER TABLE {self.STAGE} ALTER COLUMN id SET DEFAULT "
                f"nextval(pg_get_serial_sequence('{lead}', 'id')), "
                "ADD COLUMN row_no integer, ADD COLUMN tag_ids bigint[], ADD COLUMN existing_id bigint, "
                "ADD COLUMN left_out text[]"
            )

    def add(self, row: ParsedRow) -> None:
        self.batch.append(
            (
                *self.record({**self.defaults, **row.values}),
                row.row,
                row.tag_ids,
                sorted(row.left_out) if row.left_out else None,
            )
        )
        if len(self.batch) >= BATCH_SIZE * 5:
            self.flush()

    def flush(self) -> None:
        """COPY the rows read so far into the staging table (the reader may query between batches)."""
        if not self.batch:
            return
        sql = f"COPY {self.STAGE} ({', '.join([*self.columns, 'row_no', 'tag_ids', 'left_out'])}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for record in self.batch:
                copy.write_row(record)
        self.batch = []

    def finish(self) -> tuple[int, int]:
        """Move the staged rows into the leads; return how many records were created and updated."""
        self.flush()
        lead, stage = Lead._meta.db_table, self.STAGE
        line, history = ImportLine._meta.db_table, HistoryEntry._meta.db_table
        through = Lead.tags.through._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {stage} s SET existing_id = l.id FROM {lead} l "
                f"WHERE s.external_id IS NOT NULL AND l.external_id = s.external_id"
            )
            if cursor.rowcount:
                self._update_existing(cursor)
                cursor.execute(f"DELETE FROM {stage} WHERE existing_id IS NOT NULL")  # only new ones left
                self.mark("write")
            # The new records' tags first (the link's foreign key is checked at the commit), so that the
            # rules read them; then their scores and assignment decided on the staging rows, so that each
            # record is inserted once with its final values.
            cursor.execute(
                f"INSERT INTO {through} (lead_id, tag_id) SELECT id, unnest(tag_ids) FROM {stage} "
                f"WHERE existing_id IS NULL AND tag_ids IS NOT NULL"
            )
            self._decide_staged(cursor)
            columns = ", ".join(self.columns)
            cursor.execute(
                f"INSERT INTO {lead} (id, {columns}) SELECT id, {columns} FROM {stage} "
                f"WHERE existing_id IS NULL"
            )
            self.created = cursor.rowcount
            if self.scored:  # the insert's trigger gave each record a score row of 0
                score = LeadScore._meta.db_table
                cursor.execute(
                    f"UPDATE {score} s SET score = c.score FROM {self.SCORES} c "
                    f"WHERE s.lead_id = c.lead_id AND c.score <> 0"
                )
            self.mark("write")
            # Each line with its possible duplicate (another record of the same e-mail, phone or mobile key,
            # the new records included), found as it is inserted.
            records = (
                f"SELECT id, email_normalized, phone_e164, mobile_e164 FROM {stage} WHERE existing_id IS NULL"
            )
            cursor.execute(
                f"INSERT INTO {line} (import_run_id, row, lead_id, action, duplicate_of_id) "
                f"SELECT %s, s.row_no, s.id, %s, d.dup FROM {stage} s JOIN ({duplicates_sql(records)}) d "
                "ON d.id = s.id",
                [self.run.pk, LineAction.CREATED],
            )
            self.mark("duplicates")
            cursor.execute(
                f"INSERT INTO {history} "
                "(content_type_id, object_id, kind, author_id, created_at, body, changes) "
                f"SELECT %s, id, %s, %s, %s, '', '[]'::jsonb FROM {stage} WHERE existing_id IS NULL",
                [self.lead_type.pk, HistoryKind.CREATED, self.actor_id, self.now],
            )
            cursor.execute(f"DROP TABLE {stage}")
            self.flagged = True
            if self.updated or not self.assigned:
                # The steps after the write (duplicates, scoring, assignment) join the leads with the
                # import's lines: plan them with statistics that know about the rows just written.
                cursor.execute(f"ANALYZE {lead}, {line}")
        return self.created, self.updated

    def _decide_staged(self, cursor: Any) -> None:
        """Score and assign the new records on their staging rows (see :meth:`finish`), as
        :func:`_score` and :func:`_assign` do for stored records: the scores into a second staging table
        (read by the rules and by the assignment in place of the score table), the assignment's decisions
        onto the staging rows. Left to those steps, after the insert, when a rule (or a team merging
        duplicates) needs the stored records."""
        from pheu.assignment.models import AssignmentTrigger
        from pheu.assignment.services import StagedLeads, assign_leads
        from pheu.scoring.services import rules_depend_on, staged_scores_sql

        stage, scores = self.STAGE, self.SCORES
        tables = {Lead._meta.db_table: stage, LeadScore._meta.db_table: scores}
        cursor.execute(f"DROP TABLE IF EXISTS {scores}")
        cursor.execute(
            f"CREATE TEMP TABLE {scores} (lead_id bigint PRIMARY KEY, score integer NOT NULL) ON COMMIT DROP"
        )
        try:
            with transaction.atomic():
                select, params = staged_scores_sql(tables=tables)
                cursor.execute(f"INSERT INTO {scores} (lead_id, score) {select}", params)
                self.scored = True
                self.mark("scoring")
                if not PheuSettings.load().realtime_assignment:
                    self.assigned = True  # the teams' scheduled runs take them
                    return
                staged = StagedLeads(tables=tables)
                parts = list(self._staged_parts(cursor))
                if len(parts) > 1:  # each part reads and writes its range of the staging rows by id
                    cursor.execute(f"CREATE INDEX ON {stage} (id)")
                for part in parts:
                    staged.ids = part
                    assign_leads(actor=None, trigger=AssignmentTrigger.IMPORT, staged=staged)
                if rules_depend_on(ASSIGNED_FIELDS):  # re-scored as an assignment re-scores what it wrote
                    cursor.execute(f"TRUNCATE {scores}")
                    cursor.execute(f"INSERT INTO {scores} (lead_id, score) {select}", params)
                self.assigned = True
                self.mark("assignment")
        except ReadsRealTable:
            self.scored = self.assigned = False

    def _staged_parts(self, cursor: Any) -> Iterator[tuple[int, int]]:
        """The id ranges (first, last) of the new records' staging rows (the only rows left), :data:`CHUNK`
        rows each (as :func:`_line_ids` reads the ids of stored ones)."""
        cursor.execute(
            f"SELECT MIN(id), MAX(id) FROM (SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1) / %s AS part "
            f"FROM {self.STAGE}) p GROUP BY part ORDER BY part",
            [CHUNK],
        )
        yield from cursor.fetchall()

    def _update_existing(self, cursor: Any) -> None:
        """Records found by their external id: keep their values for a revert (one INSERT of the lines),
        set the columns the file has (one UPDATE … FROM the staging table), give them their tags, then
        recompute their keys from the values they now have (fields the file lacks kept theirs)."""
        lead, stage = Lead._meta.db_table, self.STAGE
        line, history = ImportLine._meta.db_table, HistoryEntry._meta.db_table
        through = Lead.tags.through._meta.db_table
        pairs = [f"'{a}', {_before_sql(a)}" for a in (*RESTORED_ATTNAMES, "updated_at")]
        # jsonb_build_object takes at most 100 arguments: join objects of 40 pairs.
        objects = " || ".join(
            f"jsonb_build_object({', '.join(pairs[i : i + 40])})" for i in range(0, len(pairs), 40)
        )
        cursor.execute(
            f"INSERT INTO {line} (import_run_id, row, lead_id, action, before) "
            f"SELECT %s, s.row_no, l.id, %s, {objects} || jsonb_build_object('tags', "
            f"(SELECT COALESCE(jsonb_agg(t.tag_id ORDER BY t.tag_id), '[]'::jsonb) FROM {through} t "
            f"WHERE t.lead_id = l.id)) FROM {stage} s JOIN {lead} l ON l.id = s.existing_id",
            [self.run.pk, LineAction.UPDATED],
        )
        # A value the row could not read (left out) keeps the record's own.
        sets = ", ".join(
            f"{a} = CASE WHEN s.left_out IS NOT NULL AND '{a}' = ANY(s.left_out) THEN l.{a} ELSE s.{a} END"
            for a in self.update_attnames
        )
        cursor.execute(
            f"UPDATE {lead} l SET {sets + ', ' if sets else ''}updated_at = %s "
            f"FROM {stage} s WHERE l.id = s.existing_id",
            [self.now],
        )
        self.updated = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {through} t USING {stage} s "
            f"WHERE t.lead_id = s.existing_id AND s.tag_ids IS NOT NULL"
        )
        cursor.execute(
            f"INSERT INTO {through} (lead_id, tag_id) SELECT existing_id, unnest(tag_ids) FROM {stage} "
            f"WHERE existing_id IS NOT NULL AND tag_ids IS NOT NULL"
        )
        body = _("Updated by the import of “%(file)s”.") % {"file": self.run.file_name}
        cursor.execute(
            f"INSERT INTO {history} "
            "(content_type_id, object_id, kind, author_id, created_at, body, changes) "
            f"SELECT %s, existing_id, %s, %s, %s, %s, '[]'::jsonb FROM {stage} WHERE existing_id IS NOT NULL",
            [self.lead_type.pk, HistoryKind.SYSTEM, self.actor_id, self.now, body],
        )
        self._rekey(cursor)

    def _rekey(self, cursor: Any) -> None:
        """Recompute the keys of the updated records in Python (exactly ``Lead.normalize``), COPY them into
        a second staging table and write them with one UPDATE."""
        from pheu.imports.rows import _KEY_SOURCES, _KEYS

        keys_fn = self.keys
        lead, stage, table = Lead._meta.db_table, self.STAGE, self.KEYS
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TEMP TABLE {table} ON COMMIT DROP AS SELECT id, {', '.join(_KEYS)} FROM {lead} LIMIT 0"
        )
        sources = ", ".join(f"l.{name}" for name in _KEY_SOURCES)
        copy_sql = f"COPY {table} (id, {', '.join(_KEYS)}) FROM STDIN"
        # A server-side cursor read in chunks, each COPYed before the next is fetched (one connection).
        with connection.connection.cursor(name="pheu_import_rekey") as read, connection.cursor() as out:
            read.execute(f"SELECT l.id, {sources} FROM {lead} l JOIN {stage} s ON l.id = s.existing_id")
            while chunk := read.fetchmany(BATCH_SIZE):
                with out.cursor.copy(copy_sql) as copy:
                    for row in chunk:
                        record = SimpleNamespace(**dict(zip(_KEY_SOURCES, row[1:], strict=True)))
                        keys_fn.normalize(record)
                        copy.write_row((row[0], *(getattr(record, k) for k in _KEYS)))
        cursor.execute(
            f"UPDATE {lead} l SET {', '.join(f'{k} = k.{k}' for k in _KEYS)} FROM {table} k WHERE l.id = k.id"
        )
        cursor.execute(f"DROP TABLE {table}")


# The writer of each database (vendor); any other: the portable one (:class:`PortableWriter`).
WRITERS: dict[str, type[Writer]] = {"postgresql": StagedWriter}


def writer_for(run: Import) -> Writer:
    """The writer of ``run`` on the default database (:data:`WRITERS`, by vendor; else the portable one)."""
    return WRITERS.get(connection.vendor, PortableWriter)(run)
