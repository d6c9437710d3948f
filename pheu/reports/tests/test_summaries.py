"""The reports' summary rows equal the records behind them, whatever wrote the records, and the reports
read from them show what the records show."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pheu.imports.testing import make_import, write_csv
from pheu.leads.models import Lead
from pheu.leads.services.convert import convert_lead
from pheu.leads.services.merge import merge_leads
from pheu.leads.services.outcome import mark_lost, mark_won
from pheu.reports import summaries
from pheu.reports.facts import ReportFilters
from pheu.reports.services import (
    forecast_rows,
    funnel_rows,
    lost_reason_rows,
    month_start,
    pipeline_rows,
    source_rows,
)
from pheu.reports.testing import make_report_scene
from pheu.testing import make_lead, make_lost_reason, make_source

pytestmark = pytest.mark.django_db(transaction=False)


def _exact() -> None:
    assert summaries.drift() == {}
    summaries.compact()
    assert summaries.drift() == {}


def test_summaries_follow_inserts_updates_outcomes_merges_and_deletes(actors):
    scene = make_report_scene(actors)
    _exact()
    # ORM saves of the columns they read, and of one they do not (no row appended).
    scene.a.expected_revenue = Decimal("123.45")
    scene.a.probability = Decimal("33.33")
    scene.a.expected_close_date = timezone.localdate() + dt.timedelta(days=70)
    scene.a.save()
    scene.d.source = make_source("Zalo")
    scene.d.save()
    _exact()
    from pheu.reports.models import CohortDay

    rows = CohortDay.objects.count()
    Lead.objects.filter(pk=scene.d.pk).update(name="Tên khác")
    assert CohortDay.objects.count() == rows
    # Outcomes, a conversion, a merge, bulk updates, deletes.
    mark_won(actor=actors.manager, lead=scene.a)
    mark_lost(actor=actors.manager, lead=Lead.objects.get(pk=scene.b.pk), lost_reason=make_lost_reason("Xa"))
    convert_lead(actor=actors.manager, lead=Lead.objects.get(pk=scene.d.pk))
    _exact()
    x = make_lead("X", team=actors.north, user=actors.sales1, email="x@example.com")
    y = make_lead("Y", team=actors.north, user=actors.sales2, email="x@example.com")
    merge_leads(actor=actors.manager, leads=[x, y])
    _exact()
    Lead.objects.filter(team=actors.north).update(team=actors.south, created_at=timezone.now())
    Lead.objects.filter(pk=scene.c.pk).delete()
    _exact()


def test_summaries_follow_an_import(actors, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_report_scene(actors)
    before = Lead.objects.count()
    path = write_csv(
        tmp_path / "leads.csv",
        [["name", "email", "source"]] + [[f"Khách {i}", f"k{i}@example.com", "Website"] for i in range(30)],
    )
    make_import(path, actor=actors.manager, team=actors.north)
    assert Lead.objects.count() == before + 30
    _exact()


def test_rebuild_after_a_load_without_triggers(actors):
    make_report_scene(actors)
    from pheu.reports.models import ClosedDay, CohortDay, CohortStep, OpenTotal

    for model in (CohortDay, CohortStep, ClosedDay, OpenTotal):
        model.objects.all().delete()
    assert summaries.drift() != {}
    summaries.rebuild()
    assert summaries.drift() == {}


def _all(user, filters):
    return (
        pipeline_rows(user=user, filters=filters),
        forecast_rows(user=user, filters=filters),
        [
            funnel_rows(user=user, filters=replace(filters, group=group, period=period))
            for group in ("period", "team", "user", "source")
            for period in ("week", "month", "quarter")
        ],
        lost_reason_rows(user=user, filters=filters),
        source_rows(user=user, filters=filters),
    )


@pytest.mark.parametrize("who", ["manager", "leader", "sales1", "sales3"])
def test_reports_from_summaries_equal_reports_from_records(actors, who, monkeypatch):
    scene = make_report_scene(actors)
    mark_won(actor=actors.manager, lead=scene.a)
    Lead.objects.filter(pk=scene.c.pk).update(converted_at=timezone.now() - dt.timedelta(hours=30))
    user = getattr(actors, who)
    today = timezone.localdate()
    filters = ReportFilters(month_start(today, -2), today)  # whole months: read from the summaries
    from pheu.reports import services

    from_summaries = _all(user, filters)
    monkeypatch.setattr(services, "summary_rows", lambda *args, **kwargs: None)
    assert from_summaries == _all(user, filters)


def test_a_domain_reads_the_records(actors):
    make_report_scene(actors)
    from pheu.rules import clean_domain

    today = timezone.localdate()
    domain = clean_domain("[['expected_revenue', '>=', 100000000]]").domain
    filters = ReportFilters(today - dt.timedelta(days=60), today, domain=domain)
    with CaptureQueriesContext(connection) as queries:
        rows = pipeline_rows(user=actors.manager, filters=filters)
    assert [row.count for row in rows] == [1]
    assert "leads_lead" in queries.captured_queries[-1]["sql"]


def test_days_of_past_months_fold_into_months_and_other_periods_read_the_records(actors):
    from pheu.reports.models import CohortDay

    today = timezone.localdate()
    past = month_start(today, -3)
    for day in (1, 9, 20):
        lead = make_lead(f"Cũ {day}", team=actors.north, user=actors.sales1)
        at = timezone.make_aware(dt.datetime.combine(past.replace(day=day), dt.time(23, 30)))
        Lead.objects.filter(pk=lead.pk).update(created_at=at)
    summaries.compact()
    assert list(CohortDay.objects.filter(day__lt=month_start(today)).values_list("day", "created")) == [
        (past, 3)
    ]
    assert summaries.drift() == {}
    whole = ReportFilters(past, month_start(today, -2) - dt.timedelta(days=1))
    assert [row.created for row in funnel_rows(user=actors.manager, filters=whole)] == [3]
    # Part of a folded month: from the records, still exact.
    part = ReportFilters(past.replace(day=5), past.replace(day=25))
    with CaptureQueriesContext(connection) as queries:
        assert [row.created for row in funnel_rows(user=actors.manager, filters=part)] == [2]
    assert all("reports_cohort" not in q["sql"] for q in queries.captured_queries)


def test_expected_closing_dates_fold_into_months_but_this_months_and_the_next(actors):
    from pheu.reports.models import OpenTotal

    today = timezone.localdate()
    dates = [
        month_start(today, -2) + dt.timedelta(days=3),
        today,
        month_start(today, 1) + dt.timedelta(days=4),
    ]
    dates += [month_start(today, 4) + dt.timedelta(days=d) for d in (2, 9)]
    for i, day in enumerate(dates):
        make_lead(f"C{i}", type="opportunity", team=actors.north, expected_close_date=day)
    summaries.compact()
    kept = set(OpenTotal.objects.values_list("close_date", flat=True))
    assert kept == {month_start(today, -2), today, dates[2], month_start(today, 4)}
    assert summaries.drift() == {}
    rows = forecast_rows(user=actors.manager, filters=ReportFilters(month_start(today), today))
    assert [row.count for row in rows][:2] == [1, 1]  # overdue, this month
