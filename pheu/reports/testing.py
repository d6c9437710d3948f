"""Factories of report tests: a crafted scene whose every figure is computed by hand from its records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from pheu.activities.models import Activity
from pheu.activities.testing import days, make_activity
from pheu.leads.models import Lead, Stage
from pheu.testing import make_lead, make_lost_reason, make_source, make_stage, set_scores

M = Decimal(1_000_000)


@dataclass
class Scene:
    first: Stage
    second: Stage
    a: Lead  # north, sales1, first stage, 100 M × 20 %, closes in ~40 days, source Website
    b: Lead  # north, sales2, second stage, 50 M × 60 %, overdue, source Website
    c: Lead  # south, sales3, first stage, 10 M × 25.5 %, closes today, source Seminar
    d: Lead  # a lead of north, sales1
    e: Lead  # won by sales1 (north), 70 M
    f: Lead  # lost by sales2 (north), 5 M, "Too expensive"
    created: dt.datetime


def make_report_scene(actors: Any) -> Scene:
    """Records of the ``actors`` fixture's teams (see :class:`Scene`), created 20 days ago."""
    now = timezone.now()
    created = now - dt.timedelta(days=20)
    first = make_stage("Mới", sequence=1, probability=Decimal(20))
    second = make_stage("Đề xuất", sequence=2, probability=Decimal(60))
    won_stage = make_stage("Thắng", sequence=9, probability=Decimal(100), is_won=True)
    web, seminar = make_source("Website"), make_source("Hội thảo")
    a = make_lead(
        "A",
        team=actors.north,
        user=actors.sales1,
        stage=first,
        expected_revenue=100 * M,
        probability=20,
        expected_close_date=timezone.localdate() + dt.timedelta(days=40),
        source=web,
        type="opportunity",
    )
    b = make_lead(
        "B",
        team=actors.north,
        user=actors.sales2,
        stage=second,
        expected_revenue=50 * M,
        probability=60,
        expected_close_date=timezone.localdate() - dt.timedelta(days=1),
        source=web,
        type="opportunity",
    )
    c = make_lead(
        "C",
        team=actors.south,
        user=actors.sales3,
        stage=first,
        expected_revenue=10 * M,
        probability=Decimal("25.5"),
        expected_close_date=timezone.localdate(),
        source=seminar,
        type="opportunity",
    )
    d = make_lead("D", team=actors.north, user=actors.sales1)
    e = make_lead(
        "E",
        team=actors.north,
        user=actors.sales1,
        stage=won_stage,
        expected_revenue=70 * M,
        probability=100,
        won_status="won",
        closed_at=now,
        type="opportunity",
    )
    f = make_lead(
        "F",
        team=actors.north,
        user=actors.sales2,
        stage=first,
        expected_revenue=5 * M,
        probability=0,
        won_status="lost",
        active=False,
        lost_reason=make_lost_reason("Giá cao"),
        closed_at=now - dt.timedelta(days=1),
        type="opportunity",
    )
    Lead.objects.filter(pk__in=[x.pk for x in (a, b, c, d, e, f)]).update(created_at=created)
    # A converted 2 days after creation, B 4 days after: median 3 days. E won 10 days after creation.
    Lead.objects.filter(pk=a.pk).update(
        converted_at=created + dt.timedelta(days=2), assigned_at=created + dt.timedelta(days=1)
    )
    Lead.objects.filter(pk=b.pk).update(
        converted_at=created + dt.timedelta(days=4), assigned_at=created + dt.timedelta(days=1)
    )
    Lead.objects.filter(pk=e.pk).update(closed_at=created + dt.timedelta(days=10))
    # Activities: sales1 has one overdue call, one call today, a meeting planned and a call done today;
    # sales3 an overdue to-do. A's first activity comes 2 days after its assignment.
    first_call = make_activity(lead=a, kind="call", due_date=days(-2))
    Activity.objects.filter(pk=first_call.pk).update(created_at=created + dt.timedelta(days=3))
    make_activity(lead=a, kind="call", due_date=days(0))
    make_activity(lead=d, kind="meeting", due_date=days(3))
    make_activity(lead=e, kind="call", due_date=days(-1), done_at=now, done_by=actors.sales1)
    make_activity(lead=c, kind="todo", due_date=days(-5))
    set_scores([a, b, c, d, e, f], 0)
    for record in (a, b, c, d, e, f):
        record.refresh_from_db()
    return Scene(first, second, a, b, c, d, e, f, created)
