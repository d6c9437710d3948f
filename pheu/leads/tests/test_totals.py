"""The pipeline's running totals: whatever writes the leads, a board's sums equal the records' own sums."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from pheu.leads import totals
from pheu.leads.choices import LeadType
from pheu.leads.models import Lead, PipelineTotal
from pheu.leads.services.outcome import mark_lost, move_lead, restore_lead
from pheu.leads.services.pipeline import TotalsScope, column_totals, running_totals
from pheu.testing import make_lead, make_stage, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def stages():
    return [
        make_stage("New", sequence=1),
        make_stage("Qualified", sequence=2),
        make_stage("Offer", sequence=3),
    ]


def _live(viewer, team_id=None, salesperson_id=None):
    rows = Lead.objects.visible_to(viewer).filter(active=True, type=LeadType.OPPORTUNITY)
    if team_id is not None:
        rows = rows.filter(team_id=team_id)
    if salesperson_id is not None:
        rows = rows.filter(user_id=salesperson_id)
    return {stage: sums for stage, sums in column_totals(rows).items() if sums[0]}


def _assert_totals_match(actors) -> None:
    for viewer in (actors.manager, actors.leader, actors.sales1, actors.sales3):
        for team_id in (None, actors.north.pk, actors.south.pk):
            for salesperson_id in (None, actors.sales1.pk, actors.sales2.pk):
                scope = TotalsScope(viewer=viewer, team_id=team_id, salesperson_id=salesperson_id)
                assert running_totals(scope) == _live(viewer, team_id, salesperson_id), scope


def _deal(actors, stage, **kw):
    values = {"type": LeadType.OPPORTUNITY, "team": actors.north, "user": actors.sales1, "stage": stage}
    return make_lead(**{**values, **kw})


def test_every_kind_of_write_keeps_the_totals(actors, stages):
    a = _deal(actors, stages[0], expected_revenue=Decimal("100.50"))
    b = _deal(actors, stages[0], expected_revenue=None, user=None)
    c = _deal(actors, stages[1], expected_revenue=Decimal(7), team=actors.south, user=actors.sales3)
    lead = make_lead("Still a lead", team=actors.north, user=actors.sales1, stage=stages[0])
    _assert_totals_match(actors)

    move_lead(actor=actors.manager, lead=a, stage=stages[2])  # a service save
    Lead.objects.filter(pk=b.pk).update(user=actors.sales2, expected_revenue=Decimal(30))  # a bulk update
    Lead.objects.filter(pk=lead.pk).update(type=LeadType.OPPORTUNITY)  # conversion
    mark_lost(actor=actors.manager, lead=Lead.objects.get(pk=c.pk), lost_reason=None)
    _assert_totals_match(actors)

    restore_lead(actor=actors.manager, lead=Lead.objects.get(pk=c.pk))
    Lead.objects.filter(pk=a.pk).delete()
    actors.sales2.delete()  # SET NULL on the records: they go back to unassigned
    _assert_totals_match(actors)
    assert running_totals(TotalsScope(viewer=actors.manager, team_id=actors.north.pk)) == {
        stages[0].pk: (2, Decimal(30))
    }


def test_random_writes_then_compaction_keep_the_totals(actors, stages):
    rnd = random.Random(11)
    teams = [actors.north, actors.south, make_team("Không nhóm"), None]
    people = [actors.sales1, actors.sales2, actors.sales3, None]
    deals = [_deal(actors, rnd.choice(stages)) for _ in range(12)]
    for _ in range(120):
        target = Lead.objects.filter(pk=rnd.choice(deals).pk)
        change = rnd.choice(["stage", "team", "user", "revenue", "active", "type"])
        value = {
            "stage": lambda: {"stage": rnd.choice([*stages, None])},
            "team": lambda: {"team": rnd.choice(teams)},
            "user": lambda: {"user": rnd.choice(people)},
            "revenue": lambda: {"expected_revenue": rnd.choice([None, Decimal(rnd.randint(0, 10**6)) / 100])},
            "active": lambda: {"active": rnd.random() < 0.7},
            "type": lambda: {"type": rnd.choice([LeadType.LEAD, LeadType.OPPORTUNITY])},
        }[change]()
        target.update(**value)
    _assert_totals_match(actors)
    before = PipelineTotal.objects.count()

    removed = totals.compact()

    assert removed > 0 and PipelineTotal.objects.count() == before - removed
    keys = list(PipelineTotal.objects.values_list("team_id", "stage_id", "user_id"))
    assert len(keys) == len(set(keys))  # one row per team, stage and salesperson
    assert not PipelineTotal.objects.filter(count=0, expected_revenue=0).exists()
    _assert_totals_match(actors)
    assert totals.compact() == 0


def test_a_write_of_unwatched_columns_adds_no_total(actors, stages):
    _deal(actors, stages[0], expected_revenue=Decimal(5))
    rows = PipelineTotal.objects.count()
    Lead.objects.update(priority=2, probability=50)
    Lead.objects.filter(active=True).update(active=True)  # set, but unchanged
    assert PipelineTotal.objects.count() == rows


def test_missing_triggers_are_installed_with_fresh_totals(actors, stages):
    with connection.cursor() as cursor:
        sql = "DROP TRIGGER leads_pipeline_total_insert"
        cursor.execute(sql + (" ON leads_lead" if connection.vendor == "postgresql" else ""))
    _deal(actors, stages[0], expected_revenue=Decimal(9))  # unseen by the totals
    assert totals.installed_triggers() == set(totals.TRIGGERS) - {"leads_pipeline_total_insert"}

    assert totals.ensure_triggers() is True

    assert totals.installed_triggers() == set(totals.TRIGGERS)
    _assert_totals_match(actors)
    assert totals.ensure_triggers() is False


def test_a_filter_the_totals_cannot_answer_sums_the_records(client, actors, stages):
    _deal(actors, stages[0], expected_revenue=Decimal(10), rating="hot")
    _deal(actors, stages[0], expected_revenue=Decimal(20), rating="cold")
    client.force_login(actors.manager)
    page = reverse("leads:pipeline")
    by_team = client.get(page, {"team": actors.north.pk}).context["columns"]
    hot = client.get(page, {"team": actors.north.pk, "rating": "hot"}).context["columns"]
    assert (by_team[0].count, by_team[0].expected_revenue) == (2, Decimal(30))
    assert (hot[0].count, hot[0].expected_revenue) == (1, Decimal(10))
    listed = client.get(reverse("leads:pipeline_list"), {"team": actors.north.pk})
    assert listed.context["page_obj"].paginator.count == 2


def test_compaction_runs_as_a_periodic_job():
    from pheu.core.periodic import discover_periodic_jobs

    assert "pipeline-totals" in {job.name for job in discover_periodic_jobs()}


def test_the_command_folds_or_rebuilds(actors, stages):
    from io import StringIO

    from django.core.management import call_command

    deal = _deal(actors, stages[0], expected_revenue=Decimal(4))
    Lead.objects.filter(pk=deal.pk).update(stage=stages[1])
    assert PipelineTotal.objects.count() == 3  # +1 on creation, -1 and +1 on the move
    out = StringIO()
    with translation.override("en"):
        call_command("pipeline_totals", stdout=out)
    assert PipelineTotal.objects.count() == 1
    assert out.getvalue().splitlines() == ["2 rows folded.", "1 row of totals."]
    _assert_totals_match(actors)
    PipelineTotal.objects.all().delete()  # as after a load with the triggers off
    call_command("pipeline_totals", "--rebuild", stdout=StringIO())
    _assert_totals_match(actors)
    assert PipelineTotal.objects.count() == 1


def _totals_in_python() -> dict[tuple[int | None, int | None, int | None], tuple[int, Decimal]]:
    """The totals computed in Python from every lead's row (what the triggers must keep)."""
    sums: dict[tuple[int | None, int | None, int | None], tuple[int, Decimal]] = {}
    rows = Lead.objects.values_list("team_id", "stage_id", "user_id", "active", "type", "expected_revenue")
    for team, stage, user, active, kind, revenue in rows:
        if active and kind == LeadType.OPPORTUNITY:
            count, total = sums.get((team, stage, user), (0, Decimal(0)))
            sums[(team, stage, user)] = (count + 1, total + (revenue or 0))
    return sums


def _stored_totals() -> dict[tuple[int | None, int | None, int | None], tuple[int, Decimal]]:
    sums: dict[tuple[int | None, int | None, int | None], tuple[int, Decimal]] = {}
    for team, stage, user, count, revenue in PipelineTotal.objects.values_list(
        "team_id", "stage_id", "user_id", "count", "expected_revenue"
    ):
        before = sums.get((team, stage, user), (0, Decimal(0)))
        sums[(team, stage, user)] = (before[0] + count, before[1] + revenue)
    return {key: value for key, value in sums.items() if value != (0, Decimal(0))}


def test_the_triggers_keep_the_totals_python_computes_from_the_records(actors, stages):
    """The triggers are SQL written for each database (totals.STATEMENTS): on each, whatever writes the
    leads, the totals are what Python counts from the rows."""
    rnd = random.Random(26)
    teams = [actors.north.pk, actors.south.pk, None]
    people = [actors.sales1.pk, actors.sales2.pk, None]
    kinds = [LeadType.OPPORTUNITY, LeadType.LEAD]

    def values() -> dict[str, Any]:
        return {
            "team_id": rnd.choice(teams),
            "user_id": rnd.choice(people),
            "stage_id": rnd.choice([*(s.pk for s in stages), None]),
            "type": rnd.choice(kinds),
            "active": rnd.random() < 0.8,
            "expected_revenue": rnd.choice([None, Decimal(rnd.randint(0, 10**6)) / 100]),
        }

    columns = ", ".join(f.column for f in Lead._meta.concrete_fields if not f.primary_key)
    for step in range(80):
        ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
        way = (
            rnd.choice(["create", "bulk", "copy", "update", "sql", "delete", "sql_delete"])
            if ids
            else "create"
        )
        if way == "create":
            make_lead(f"L{step}", **values())
        elif way == "bulk":
            Lead.objects.bulk_create([Lead(name=f"B{step}-{i}", **values()) for i in range(3)])
        elif way == "copy":  # several rows in one statement, as an import's COPY
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO leads_lead ({columns}) "
                    f"SELECT {columns} FROM leads_lead WHERE id IN (%s, %s)",
                    [rnd.choice(ids), rnd.choice(ids)],
                )
        elif way == "update":
            Lead.objects.filter(pk__in=rnd.sample(ids, min(3, len(ids)))).update(**values())
        elif way == "sql":  # one watched column at a time
            column, value = rnd.choice(
                [("expected_revenue", Decimal(rnd.randint(0, 999))), ("stage_id", rnd.choice(stages).pk)]
            )
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE leads_lead SET {column} = %s WHERE id = %s", [value, rnd.choice(ids)])
        elif way == "delete":
            Lead.objects.filter(pk=rnd.choice(ids)).delete()
        else:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM leads_lead WHERE id = %s", [rnd.choice(ids)])
    expected = _totals_in_python()
    assert sum(count for count, _revenue in expected.values()) >= 5  # the writes left active opportunities

    assert _stored_totals() == expected
    totals.compact()
    assert _stored_totals() == expected
    totals.rebuild()
    assert _stored_totals() == expected
