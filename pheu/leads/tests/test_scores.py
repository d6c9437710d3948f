"""Scores in their own table (``LeadScore``): every lead has its row whatever inserted it, reads find it in
the same query, and lists sort and filter on it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from pheu.leads import scores
from pheu.leads.models import Lead, LeadScore
from pheu.leads.rules_schema import FACTS_SELECT_RELATED, lead_facts
from pheu.testing import make_lead, set_scores

pytestmark = pytest.mark.django_db


def _rows() -> dict[int, int]:
    return dict(LeadScore.objects.values_list("lead_id", "score"))


def test_every_inserted_lead_has_a_score_row_whatever_inserted_it():
    one = make_lead("ORM")
    bulk = Lead.objects.bulk_create([Lead(name="Bulk 1"), Lead(name="Bulk 2")])
    columns = ", ".join(f.column for f in Lead._meta.concrete_fields if not f.primary_key)
    copied = columns.replace("name,", "'SQL ' || name,", 1)
    with connection.cursor() as cursor:  # two leads in one statement, as an import's COPY would
        cursor.execute(
            f"INSERT INTO leads_lead ({columns}) SELECT {copied} FROM leads_lead WHERE id <> %s", [one.pk]
        )
    by_sql = list(Lead.objects.filter(name__startswith="SQL ").values_list("pk", flat=True))
    assert len(by_sql) == 2
    assert _rows() == {lead_id: 0 for lead_id in [one.pk, *(lead.pk for lead in bulk), *by_sql]}


def test_the_row_goes_with_its_lead_whether_deleted_by_django_or_by_sql():
    kept, orm, raw = make_lead("Kept", score=5), make_lead("ORM", score=6), make_lead("Raw", score=7)
    orm.delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM leads_lead WHERE id = %s", [raw.pk])
    assert _rows() == {kept.pk: 5}


def test_missing_triggers_are_installed_and_leads_without_a_row_get_one():
    with connection.cursor() as cursor:
        on = " ON leads_lead" if connection.vendor == "postgresql" else ""
        cursor.execute(f"DROP TRIGGER leads_score_row_add{on}")
    assert scores.installed_triggers() == {"leads_score_row_delete"}
    lead = make_lead("Inserted without the trigger")
    assert not LeadScore.objects.filter(lead=lead).exists()

    assert scores.ensure_triggers() is True
    assert scores.installed_triggers() == set(scores.TRIGGERS)
    assert LeadScore.objects.get(lead=lead).score == 0
    assert LeadScore.objects.get(lead=make_lead("After")).score == 0
    assert scores.ensure_triggers() is False


def test_a_database_with_the_replaced_insert_trigger_gets_the_new_one():
    """The insert trigger before ``leads_score_row_add`` (a database migrated by an older Pheu) is dropped
    and replaced at the next install, so that a score row written in the lead's statement is kept."""
    from pheu.leads.triggers import lead_table_triggers

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER leads_score_row_add ON leads_lead")
            cursor.execute(
                "CREATE FUNCTION leads_score_row_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "INSERT INTO leads_leadscore (lead_id, score) SELECT id, 0 FROM new_leads; "
                "RETURN NULL; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER leads_score_row_insert AFTER INSERT ON leads_lead REFERENCING NEW TABLE AS "
                "new_leads FOR EACH STATEMENT EXECUTE FUNCTION leads_score_row_insert()"
            )
        else:
            cursor.execute("DROP TRIGGER leads_score_row_add")
            cursor.execute(
                "CREATE TRIGGER leads_score_row_insert AFTER INSERT ON leads_lead "
                "BEGIN INSERT INTO leads_leadscore (lead_id, score) VALUES (NEW.id, 0); END"
            )

    assert scores.ensure_triggers() is True
    assert lead_table_triggers(connection) & {*scores.TRIGGERS, *scores.OLD_TRIGGERS} == set(scores.TRIGGERS)
    assert LeadScore.objects.get(lead=make_lead("After")).score == 0


def test_lead_score_is_read_with_the_leads_in_one_query(django_assert_num_queries):
    leads = [make_lead(f"L{i}", score=i * 10) for i in range(3)]
    with django_assert_num_queries(1):
        assert [lead.score for lead in Lead.objects.with_score().order_by("pk")] == [0, 10, 20]
    with django_assert_num_queries(1):
        loaded = list(Lead.objects.select_related("score_row").order_by("pk"))
        assert [lead.score for lead in loaded] == [0, 10, 20]
    with django_assert_num_queries(2):  # a record read without its score asks for it once
        assert Lead.objects.get(pk=leads[2].pk).score == 20


def test_refresh_from_db_reads_the_stored_score_again():
    lead = make_lead(score=3)
    assert lead.score == 3
    LeadScore.objects.filter(lead=lead).update(score=8)
    lead.refresh_from_db()
    assert lead.score == 8
    lead.score = 1  # this instance only: the scoring service writes scores
    assert LeadScore.objects.get(lead=lead).score == 8


def test_rule_facts_carry_the_stored_score():
    lead = make_lead(score=42)
    loaded = Lead.objects.select_related(*FACTS_SELECT_RELATED).get(pk=lead.pk)
    assert lead_facts(loaded)["score"] == 42
    assert lead_facts(Lead(name="Unsaved"))["score"] == 0


def test_lists_sort_and_filter_on_the_score(actors, api_client):
    low, high, middle = (make_lead(name, user=actors.sales1) for name in ("Low", "High", "Middle"))
    set_scores([low], 5)
    set_scores([high], 90)
    set_scores([middle], 40)
    client = api_client(actors.manager)
    url = reverse("api:lead-list")

    rows = client.get(url, {"ordering": "-score"}).json()["results"]
    assert [(row["name"], row["score"]) for row in rows] == [("High", 90), ("Middle", 40), ("Low", 5)]
    rows = client.get(url, {"score_min": 40, "ordering": "score"}).json()["results"]
    assert [row["name"] for row in rows] == ["Middle", "High"]


def test_rules_on_the_score_select_by_the_stored_score(actors, api_client):
    make_lead("Cold", user=actors.sales1, score=10)
    make_lead("Hot", user=actors.sales1, score=60)
    response = api_client(actors.manager).get(reverse("api:lead-list"), {"domain": "[['score', '>=', 50]]"})
    assert response.status_code == 200, response.json()
    assert [row["name"] for row in response.json()["results"]] == ["Hot"]


def test_the_triggers_give_every_lead_its_row_as_python_expects_whatever_writes_the_leads():
    """The triggers are SQL written for each database (scores.STATEMENTS): on each, after inserts and
    deletes of every kind, the score rows are exactly the leads' ids, each score kept."""
    import random

    rnd = random.Random(26)
    columns = ", ".join(f.column for f in Lead._meta.concrete_fields if not f.primary_key)
    scored: dict[int, int] = {}
    for step in range(60):
        ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
        way = rnd.choice(["create", "bulk", "copy", "delete", "sql_delete", "score"]) if ids else "create"
        if way == "create":
            make_lead(f"L{step}")
        elif way == "bulk":
            Lead.objects.bulk_create([Lead(name=f"B{step}-{i}") for i in range(3)])
        elif way == "copy":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO leads_lead ({columns}) "
                    f"SELECT {columns} FROM leads_lead WHERE id IN (%s, %s)",
                    [rnd.choice(ids), rnd.choice(ids)],
                )
        elif way == "score":
            lead = Lead.objects.get(pk=rnd.choice(ids))
            scored[lead.pk] = rnd.randint(1, 100)
            set_scores([lead], scored[lead.pk])
        elif way == "delete":
            Lead.objects.filter(pk=rnd.choice(ids)).delete()
        else:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM leads_lead WHERE id = %s", [rnd.choice(ids)])
    leads = set(Lead.objects.values_list("pk", flat=True))
    assert len(leads) > 10
    assert _rows() == {pk: scored.get(pk, 0) for pk in leads}
