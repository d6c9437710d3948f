"""The activities' summary rows (:mod:`pheu.reports.agenda`) equal the activities behind them after every
kind of write, and the activities report read from them shows what the activities show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pheu.activities.models import Activity
from pheu.activities.services import (
    cancel_activity,
    complete_activity,
    schedule_activity,
    update_activity,
)
from pheu.activities.testing import days, make_activity
from pheu.contacts.models import Partner
from pheu.imports.testing import make_import, write_csv
from pheu.leads.models import Lead
from pheu.leads.services.merge import merge_leads
from pheu.leads.services.records import update_lead
from pheu.reports import agenda
from pheu.reports.facts import ReportFilters
from pheu.reports.models import ActivityDay
from pheu.reports.services import activity_rows, month_start
from pheu.reports.testing import make_report_scene
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db(transaction=False)


def _exact() -> None:
    assert agenda.drift() == (set(), set())
    agenda.compact()
    assert agenda.drift() == (set(), set())


def test_rows_follow_activities_added_changed_done_and_deleted(actors):
    scene = make_report_scene(actors)
    _exact()
    call = schedule_activity(actor=actors.sales1, lead=scene.d, values={"kind": "call", "due_date": days(2)})
    _exact()
    update_activity(actor=actors.sales1, activity=call, values={"due_date": days(-3), "kind": "meeting"})
    Activity.objects.filter(pk=call.pk).update(assignee=actors.sales2)
    _exact()
    complete_activity(actor=actors.manager, activity=call, feedback="Xong")
    _exact()
    todo = schedule_activity(actor=actors.sales1, lead=scene.a, values={"kind": "todo", "due_date": days(0)})
    cancel_activity(actor=actors.sales1, activity=todo)
    _exact()
    # A customer's activity, bulk updates, done long ago (folded into its month), deletes.
    partner = Partner.objects.create(name="Công ty Xanh")
    make_activity(partner=partner, assignee=actors.sales3, kind="email", due_date=days(5))
    Activity.objects.filter(lead=scene.a).update(done_at=timezone.now() - dt.timedelta(days=70))
    Activity.objects.filter(kind="todo").update(due_date=days(9))
    _exact()
    Activity.objects.filter(lead=scene.c).delete()
    _exact()


def test_rows_follow_reassignments_merges_deletes_and_an_import(actors, tmp_path, settings):
    scene = make_report_scene(actors)
    update_lead(actor=actors.manager, lead=scene.d, values={"user": actors.sales2})
    _exact()
    Lead.objects.filter(team=actors.north).update(team=actors.south)
    Lead.objects.filter(pk=scene.a.pk).update(user=None)
    _exact()
    x = make_lead("X", team=actors.north, user=actors.sales1, email="x@example.com")
    y = make_lead("Y", team=actors.south, user=actors.sales3, email="x@example.com")
    make_activity(lead=x, kind="call")
    make_activity(lead=y, kind="meeting", due_date=days(4))
    merge_leads(actor=actors.manager, leads=[x, y])
    _exact()
    Lead.objects.filter(pk=scene.e.pk).delete()
    _exact()
    settings.MEDIA_ROOT = tmp_path / "media"
    path = write_csv(tmp_path / "leads.csv", [["name", "email"], ["Khách", "k@example.com"]])
    make_import(path, actor=actors.manager, team=actors.north)
    _exact()


def test_rebuild_after_a_load_without_triggers(actors):
    make_report_scene(actors)
    ActivityDay.objects.all().delete()
    assert agenda.drift() != (set(), set())
    agenda.rebuild()
    _exact()


@pytest.mark.parametrize("who", ["manager", "leader", "sales1", "sales3"])
def test_the_report_from_the_rows_equals_it_from_the_activities(actors, who, monkeypatch):
    scene = make_report_scene(actors)
    partner = Partner.objects.create(name="Công ty Xanh")
    make_activity(partner=partner, assignee=actors.sales3, kind="email", due_date=days(5))
    make_activity(lead=scene.b, assignee=actors.sales3, kind="todo", due_date=days(-4))
    old = make_activity(lead=scene.d, kind="call", due_date=days(-40))
    Activity.objects.filter(pk=old.pk).update(done_at=timezone.now() - dt.timedelta(days=40))
    agenda.compact()
    user = getattr(actors, who)
    today = timezone.localdate()
    variants = [
        ReportFilters(month_start(today, -11), today),
        ReportFilters(month_start(today), today, team_id=actors.north.pk),
        ReportFilters(month_start(today, -2), today, team_id=actors.south.pk),
        ReportFilters(month_start(today, -2), today, user_id=actors.sales3.pk),
    ]
    with CaptureQueriesContext(connection) as queries:
        kept = [activity_rows(user=user, filters=filters) for filters in variants]
    assert not any("activities_activity" in q["sql"] for q in queries.captured_queries)
    assert any(kept)
    from pheu.reports import services

    monkeypatch.setattr(services, "_activity_days", lambda *args, **kwargs: None)
    assert kept == [activity_rows(user=user, filters=filters) for filters in variants]


def test_other_periods_read_the_activities(actors):
    make_report_scene(actors)
    today = timezone.localdate()
    part = ReportFilters(today - dt.timedelta(days=10), today)
    with CaptureQueriesContext(connection) as queries:
        rows = activity_rows(user=actors.manager, filters=part)
    assert "activities_activity" in queries.captured_queries[-1]["sql"]
    assert sum(row.done for row in rows) == 1


def test_the_command_rebuilds_and_folds_the_kept_rows(actors):
    import io

    from django.core.management import call_command

    from pheu.reports import firsts
    from pheu.reports.models import AssignedRecord

    scene = make_report_scene(actors)
    ActivityDay.objects.all().delete()
    AssignedRecord.objects.all().delete()
    call_command("report_summaries", "--rebuild", stdout=io.StringIO())
    assert agenda.drift() == (set(), set())
    assert firsts.drift() == (set(), set())
    call = make_activity(lead=scene.d, kind="call")
    Activity.objects.filter(pk=call.pk).update(due_date=days(6))
    appended = ActivityDay.objects.count()
    call_command("report_summaries", stdout=io.StringIO())
    assert ActivityDay.objects.count() < appended
    _exact()
