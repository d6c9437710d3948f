"""``ModelColumns`` gives, from a hand-written SELECT, the instance a queryset gives (on both databases)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from pheu.core.models import PheuSettings
from pheu.core.rows import ModelColumns
from pheu.leads.models import Lead
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db


def _read(columns: ModelColumns, sql: str, params: list) -> list:
    query = sql.format(columns=columns.select(), table=columns.table())
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return [columns.instance(row) for row in cursor.fetchall()]


def test_the_instance_is_the_querysets_with_each_type_converted():
    stored = PheuSettings.load()
    stored.use_leads = False
    stored.predictive_fields = ["country", "source"]
    stored.save()
    columns = ModelColumns(PheuSettings, "p")
    [read] = _read(columns, "SELECT {columns} FROM {table} p WHERE p.id = %s", [stored.pk])
    expected = PheuSettings.objects.get(pk=stored.pk)
    for field in PheuSettings._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read.use_leads is False  # a boolean, not SQLite's 0
    assert read.scoring_rules_stamp == stored.scoring_rules_stamp  # a UUID, not its text
    assert read.predictive_fields == ["country", "source"]  # JSON, decoded
    assert not read._state.adding  # saved: save() updates it
    read.currency = "USD"
    read.save()
    assert PheuSettings.objects.get(pk=stored.pk).currency == "USD"


def test_decimals_and_dates_come_as_python_values():
    lead = make_lead(expected_revenue=Decimal("15000000.50"))
    columns = ModelColumns(Lead, "l")
    [read] = _read(columns, "SELECT {columns} FROM {table} l WHERE l.id = %s", [lead.pk])
    assert read.expected_revenue == Decimal("15000000.50")
    assert read.created_at == Lead.objects.get(pk=lead.pk).created_at


def test_the_row_of_an_outer_join_that_found_nothing_is_none():
    columns = ModelColumns(PheuSettings, "p")
    sql = "SELECT {columns} FROM (SELECT 1 AS one) x LEFT JOIN {table} p ON p.id = %s"
    assert _read(columns, sql, [-1]) == [None]


# --- insert -----------------------------------------------------------------------------------------------
def _row(model, pk):
    return model.objects.filter(pk=pk).values().get()


def test_insert_stores_the_row_save_stores():
    from pheu.core.rows import insert

    values = {"name": "Báo giá", "email": "lan@example.vn", "expected_revenue": Decimal("1500.50")}
    saved, inserted = Lead(**values), Lead(**values)
    saved.normalize()
    saved.save()
    inserted.normalize()
    insert(inserted)

    assert inserted.pk and inserted.pk != saved.pk and not inserted._state.adding
    assert inserted.created_at and inserted.updated_at  # auto_now(_add) stamped on the instance too
    ignore = {"id", "created_at", "updated_at"}
    expected = {k: v for k, v in _row(Lead, saved.pk).items() if k not in ignore}
    assert {k: v for k, v in _row(Lead, inserted.pk).items() if k not in ignore} == expected
    assert Lead.objects.get(pk=inserted.pk).score == 0  # the insert trigger made its score row


def test_insert_saves_through_the_orm_when_a_receiver_listens():
    from django.db.models.signals import post_save

    from pheu.core.rows import insert

    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=Lead, dispatch_uid="test_insert_receiver")
    try:
        lead = Lead(name="Nghe thấy")
        insert(lead)
    finally:
        post_save.disconnect(dispatch_uid="test_insert_receiver", sender=Lead)
    assert heard == [(lead.pk, True)]


def test_only_some_columns_give_an_instance_with_the_others_deferred():
    lead = make_lead(name="Báo giá", city="Huế")
    columns = ModelColumns(Lead, "l", only=("name",))
    [read] = _read(columns, "SELECT {columns} FROM {table} l WHERE l.id = %s", [lead.pk])
    assert (read.pk, read.name) == (lead.pk, "Báo giá")
    assert "city" in read.get_deferred_fields()
    assert read.city == "Huế"  # read on demand, as QuerySet.only gives it


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's statement cache: PostgreSQL")
def test_a_leads_insert_is_parsed_once_by_the_driver(monkeypatch):
    from psycopg import _queries

    parsed_anew: list[bytes] = []
    uncached = _queries._query2pg_client_nocache

    def spy(query: bytes, encoding: str) -> object:
        parsed_anew.append(query)
        return uncached(query, encoding)

    monkeypatch.setattr(_queries, "_query2pg_client_nocache", spy)
    make_lead(name="Một")
    make_lead(name="Hai")
    assert not [q for q in parsed_anew if q.startswith(b'INSERT INTO "leads_lead"')]


def _entry(kind: str, body: str):
    from django.contrib.contenttypes.models import ContentType

    from pheu.core.models import HistoryEntry

    content_type = ContentType.objects.get_for_model(Lead)
    return HistoryEntry(content_type=content_type, kind=kind, body=body, changes=[])


def test_insert_with_stores_each_dependant_with_the_new_id(django_assert_num_queries):
    """A lead with its history entries: on PostgreSQL one statement, elsewhere one insert each; the same
    rows either way."""
    from django.contrib.contenttypes.models import ContentType

    from pheu.core.models import HistoryEntry
    from pheu.core.rows import insert_with

    ContentType.objects.get_for_model(Lead)  # cached before counting
    lead = Lead(name="Báo giá", email="lan@example.vn")
    lead.normalize()
    created, note = _entry("created", ""), _entry("note", "<p>Gọi lại</p>")
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        insert_with(lead, [(created, "object_id"), (note, "object_id")])

    assert lead.pk and not lead._state.adding and Lead.objects.get(pk=lead.pk).score == 0
    stored = HistoryEntry.objects.filter(object_id=lead.pk).order_by("id")
    assert [(e.pk, e.kind, e.body) for e in stored] == [
        (created.pk, "created", ""),
        (note.pk, "note", "<p>Gọi lại</p>"),
    ]
    assert created.object_id == note.object_id == lead.pk and not created._state.adding
    assert created.created_at == stored[0].created_at  # auto_now_add stamped on the instance, as saved


def test_insert_with_saves_a_dependant_a_receiver_listens_to_through_the_orm():
    from django.db.models.signals import post_save

    from pheu.core.models import HistoryEntry
    from pheu.core.rows import insert_with

    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.object_id, created))

    post_save.connect(receiver, sender=HistoryEntry, dispatch_uid="test_insert_with_receiver")
    try:
        lead = Lead(name="Nghe thấy")
        insert_with(lead, [(_entry("created", ""), "object_id")])
    finally:
        post_save.disconnect(dispatch_uid="test_insert_with_receiver", sender=HistoryEntry)
    assert heard == [(lead.pk, True)]


def test_a_queryset_reads_a_stand_in_table_under_the_real_name_and_refuses_a_subquery_of_the_real_one():
    from pheu.core.rows import ReadsRealTable, sql_on_tables

    make_lead("Stored")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE stand_in AS SELECT * FROM leads_lead")
        cursor.execute("UPDATE stand_in SET name = 'Staged'")
    stand_in = {Lead._meta.db_table: "stand_in"}

    sql, params = sql_on_tables(Lead.objects.filter(name__startswith="Sta").values_list("name"), stand_in)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert cursor.fetchall() == [("Staged",)]
    assert list(Lead.objects.values_list("name", flat=True)) == ["Stored"]  # the queryset itself unchanged

    # A subquery of the lead table would read the stored rows, not the stand-in's.
    inner = Lead.objects.filter(pk__in=Lead.objects.filter(name="Stored").values("pk"))
    with pytest.raises(ReadsRealTable):
        sql_on_tables(inner, stand_in)
