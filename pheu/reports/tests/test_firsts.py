"""The assigned records' kept first activity since the assignment (:mod:`pheu.reports.firsts`) equals the
one computed from the records and their activities after every kind of write, and the assignment report
and the dashboard read from it show what the records show."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pheu.activities.models import Activity
from pheu.activities.services import cancel_activity, complete_activity, schedule_activity
from pheu.activities.testing import days, make_activity
from pheu.imports.testing import make_import, write_csv
from pheu.leads.models import Lead
from pheu.leads.services.merge import merge_leads
from pheu.leads.services.records import create_lead, update_lead
from pheu.reports import firsts
from pheu.reports.dashboards import month_figures
from pheu.reports.facts import ReportFilters
from pheu.reports.models import AssignedRecord
from pheu.reports.services import member_rows, month_start
from pheu.reports.testing import make_report_scene
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db(transaction=False)


def _exact() -> None:
    assert firsts.drift() == (set(), set())


def _first(lead: Lead) -> dt.datetime | None:
    return AssignedRecord.objects.get(lead_id=lead.pk).first_activity_at


def _later(minutes: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


def test_kept_rows_follow_creates_reassignments_and_activities(actors):
    scene = make_report_scene(actors)
    _exact()
    # The scene's A: assigned a day after creation, its first call two days after that.
    assert _first(scene.a) == scene.created + dt.timedelta(days=3)
    # A record created with a salesperson by the service: a row, no activity yet.
    lead = create_lead(
        actor=actors.manager, values={"name": "Mới", "team": actors.north, "user": actors.sales1}
    )
    assert _first(lead) is None
    _exact()
    # An activity added, then an earlier one (it becomes the first), one done, one deleted.
    call = schedule_activity(actor=actors.sales1, lead=lead, values={"kind": "call", "due_date": days(1)})
    assert _first(lead) == call.created_at
    second = schedule_activity(actor=actors.sales1, lead=lead, values={"kind": "todo", "due_date": days(2)})
    assert _first(lead) == call.created_at
    _exact()
    complete_activity(actor=actors.sales1, activity=call, feedback="Đã gọi")
    assert _first(lead) == call.created_at
    _exact()
    cancel_activity(actor=actors.sales1, activity=second)
    assert _first(lead) == call.created_at
    _exact()


def test_kept_rows_follow_deletes_moves_and_reassignments(actors):
    scene = make_report_scene(actors)
    lead = create_lead(
        actor=actors.manager, values={"name": "Mới", "team": actors.north, "user": actors.sales1}
    )
    first = schedule_activity(actor=actors.sales1, lead=lead, values={"kind": "call", "due_date": days(1)})
    second = schedule_activity(actor=actors.sales1, lead=lead, values={"kind": "todo", "due_date": days(2)})
    Activity.objects.filter(pk=second.pk).update(created_at=_later(30))
    # The first one deleted: the next one is the first.
    cancel_activity(actor=actors.sales1, activity=first)
    assert _first(lead) == Activity.objects.get(pk=second.pk).created_at
    _exact()
    # Reassigned: the activity made for the previous salesperson no longer counts, a new one does.
    Lead.objects.filter(pk=lead.pk).update(assigned_at=timezone.now() - dt.timedelta(hours=1))
    lead = update_lead(
        actor=actors.manager, lead=Lead.objects.get(pk=lead.pk), values={"user": actors.sales2}
    )
    assert _first(lead) == Activity.objects.get(pk=second.pk).created_at  # created after the reassignment
    Activity.objects.filter(pk=second.pk).update(created_at=lead.assigned_at - dt.timedelta(minutes=1))
    assert _first(lead) is None
    _exact()
    third = make_activity(lead=lead, kind="email")
    assert _first(lead) == third.created_at
    _exact()
    # Unassigned: no row; given again: the activities since that assignment.
    update_lead(actor=actors.manager, lead=Lead.objects.get(pk=lead.pk), values={"user": None})
    assert not AssignedRecord.objects.filter(lead_id=lead.pk).exists()
    _exact()
    Lead.objects.filter(pk=lead.pk).update(user=actors.sales1, assigned_at=third.created_at)
    assert _first(lead) == third.created_at
    _exact()
    # Bulk moves of team and salesperson, and deletes of records and of activities.
    Lead.objects.filter(team=actors.north).update(team=actors.south, user=actors.sales3)
    _exact()
    Activity.objects.filter(lead=scene.a).delete()
    assert _first(scene.a) is None
    Lead.objects.filter(pk=scene.d.pk).delete()
    _exact()


def test_kept_rows_follow_a_merge(actors):
    make_report_scene(actors)
    x = make_lead("X", team=actors.north, user=actors.sales1, email="x@example.com")
    y = make_lead("Y", team=actors.north, user=actors.sales2, email="x@example.com")
    at = timezone.now() - dt.timedelta(days=2)
    Lead.objects.filter(pk__in=[x.pk, y.pk]).update(assigned_at=at)
    early = make_activity(lead=y, kind="call")
    Activity.objects.filter(pk=early.pk).update(created_at=at + dt.timedelta(hours=1))
    make_activity(lead=x, kind="call")
    _exact()
    merge_leads(actor=actors.manager, leads=[x, y])
    _exact()
    survivor = Lead.objects.filter(pk__in=[x.pk, y.pk], merged_into__isnull=True).get()
    record = AssignedRecord.objects.get(lead_id=survivor.pk)
    assert (
        record.first_activity_at
        == Activity.objects.filter(lead=survivor, created_at__gte=survivor.assigned_at)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def test_kept_rows_follow_an_import(actors, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_report_scene(actors)
    path = write_csv(
        tmp_path / "leads.csv",
        [["name", "email", "salesperson"]]
        + [[f"Khách {i}", f"k{i}@example.com", actors.sales1.username] for i in range(20)],
    )
    make_import(path, actor=actors.manager, team=actors.north)
    assert AssignedRecord.objects.filter(user=actors.sales1, first_activity_at__isnull=True).count() >= 20
    _exact()


def test_rebuild_after_a_load_without_triggers(actors):
    make_report_scene(actors)
    AssignedRecord.objects.all().delete()
    assert firsts.drift() != (set(), set())
    firsts.rebuild()
    _exact()


@pytest.mark.parametrize("who", ["manager", "leader", "sales1", "sales3"])
def test_assignment_report_and_dashboard_from_kept_rows_equal_them_from_records(actors, who, monkeypatch):
    scene = make_report_scene(actors)
    # Activities of D before and after its assignment, B reassigned after its first activity.
    Lead.objects.filter(pk=scene.d.pk).update(assigned_at=timezone.now() - dt.timedelta(days=3))
    for hours in (-80, -20, -5):
        made = make_activity(lead=scene.d, kind="call")
        Activity.objects.filter(pk=made.pk).update(created_at=timezone.now() + dt.timedelta(hours=hours))
    make_activity(lead=scene.b, kind="call")
    update_lead(actor=actors.manager, lead=Lead.objects.get(pk=scene.b.pk), values={"user": actors.sales1})
    user = getattr(actors, who)
    today = timezone.localdate()
    filters = ReportFilters(today - dt.timedelta(days=29), today)
    with CaptureQueriesContext(connection) as queries:
        kept = (member_rows(user=user, filters=filters), month_figures(user=user, today=today))
    assert not any("activities_activity" in q["sql"] for q in queries.captured_queries)
    if who in ("manager", "sales1"):
        assert any(row.assigned for row in kept[0])
    from pheu.reports import services

    monkeypatch.setattr(services, "summary_rows", lambda *args, **kwargs: None)
    from pheu.reports import dashboards

    monkeypatch.setattr(dashboards, "summary_rows", lambda *args, **kwargs: None)
    assert kept == (member_rows(user=user, filters=filters), month_figures(user=user, today=today))


def test_the_dashboards_median_days_to_the_first_activity(actors):
    scene = make_report_scene(actors)
    now = timezone.now()
    assigned = now - dt.timedelta(minutes=30)
    if timezone.localtime(assigned).date() < month_start(timezone.localdate()):
        pytest.skip("too close to the turn of the month")
    Activity.objects.filter(lead__in=[scene.c, scene.d]).delete()
    # Two records assigned this month, their first activities 12 and 36 hours later: median 1 day.
    for lead, hours in ((scene.d, 12), (scene.c, 36)):
        Lead.objects.filter(pk=lead.pk).update(assigned_at=assigned)
        made = make_activity(lead=lead, kind="call")
        Activity.objects.filter(pk=made.pk).update(created_at=assigned + dt.timedelta(hours=hours))
    Lead.objects.filter(pk__in=[scene.a.pk, scene.b.pk, scene.e.pk, scene.f.pk]).update(
        assigned_at=now - dt.timedelta(days=90)
    )
    figures = {f.name: f for f in month_figures(user=actors.manager)}
    assert figures["days_to_first_activity"].current == Decimal("1.0")
