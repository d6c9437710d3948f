"""A merge stored by an earlier version of Pheu is still read and undone exactly.

``fixtures/merge_written_by_443be09.json`` holds the rows of a merge right after it was made by the code of
commit 443be09 (the Merge row among them, its snapshot column as that code stored it) and the rows as they
were before it. Loaded as they are, the merge is undone by today's code back to those rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management.color import no_style
from django.db import connection

from pheu.core.models import HistoryEntry, HistoryKind
from pheu.leads.models import Lead, Merge
from pheu.leads.services.merge import merge_warnings, unmerge
from pheu.leads.services.merge_snapshot import MergeSnapshot, MovedRows
from pheu.scoring.models import PageView

pytestmark = pytest.mark.django_db

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "merge_written_by_443be09.json").read_text())


def _load_stored_merge() -> Merge:
    objects = list(serializers.deserialize("python", FIXTURE["rows"], handle_forward_references=True))
    for obj in objects:
        obj.save()
    models = {type(obj.object) for obj in objects}
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)
        # The snapshot column exactly as the old code stored it (the rows above carry it re-encoded).
        cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        cursor.execute(f"UPDATE leads_merge SET snapshot = {cast}", [FIXTURE["snapshot"]])
    return Merge.objects.get()


def _rows() -> list[dict[str, Any]]:
    """The rows a merge touches, serialised as the fixture's ``before`` is."""
    ct = ContentType.objects.get_for_model(Lead)
    rows: list[dict[str, Any]] = []
    for queryset in (
        Lead.objects.order_by("pk"),
        Lead.tags.through.objects.order_by("pk"),
        PageView.objects.order_by("pk"),
        HistoryEntry.objects.filter(content_type=ct).order_by("pk"),
    ):
        rows.extend(json.loads(serializers.serialize("json", queryset, use_natural_foreign_keys=True)))
    for row in rows:
        row["fields"].pop("tags", None)
    return rows


def test_a_merge_stored_by_the_earlier_code_is_undone_to_the_rows_before_it():
    merge = _load_stored_merge()
    assert merge_warnings(merge) == []
    assert not Lead.objects.get(pk=2).active and Lead.objects.get(pk=4).merged_into_id == 1

    result = unmerge(actor=None, merge_id=merge.pk)

    assert result.lead_ids == (1, 2, 3) and result.kept_fields == ()
    before_pks = {(row["model"], row["pk"]) for row in FIXTURE["before"]}
    after = [row for row in _rows() if (row["model"], row["pk"]) in before_pks]
    assert len(after) == len(FIXTURE["before"]) and after == FIXTURE["before"]
    # Besides: the entries of the merge and of its undo, on each record.
    entries = HistoryEntry.objects.exclude(
        pk__in=[pk for model, pk in before_pks if model == "core.historyentry"]
    )
    assert sorted(entries.values_list("object_id", "kind")) == [
        (lead_id, HistoryKind.SYSTEM) for lead_id in (1, 1, 2, 2, 3, 3)
    ]
    assert Merge.objects.get().is_undone


def test_the_typed_snapshot_writes_the_form_it_reads():
    stored = json.loads(FIXTURE["snapshot"])
    snapshot = MergeSnapshot.from_json(stored)
    assert [row.lead_id for row in snapshot.leads] == [1, 2, 3]  # the survivor first
    assert snapshot.moved[2] == MovedRows(
        "core.HistoryEntry", "object_id", "content_type_id", ((2, 3), (1, 2))
    )
    assert snapshot.to_json() == stored
