"""The home dashboards: a salesperson's day, a leader's and manager's month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pheu.core.models import PheuSettings
from pheu.leads.models import Lead
from pheu.reports.dashboards import dashboard, month_figures
from pheu.reports.services import month_start

pytestmark = pytest.mark.django_db
M = Decimal(1_000_000)


def test_a_salesperson_sees_their_day(actors, scene):
    Lead.objects.filter(pk=scene.a.pk).update(assigned_at=timezone.now() - dt.timedelta(days=1))
    board = dashboard(user=actors.sales1)
    assert board.kind == "salesperson"
    assert [(s.stage, s.count, s.expected_revenue) for s in board.stages] == [("Mới", 1, 100 * M)]
    # Overdue and today's calls of A; not the planned meeting, not the done call, not sales3's to-do.
    assert sorted(a.due_date for a in board.activities) == [
        timezone.localdate() - dt.timedelta(days=2),
        timezone.localdate(),
    ]
    assert [lead.name for lead in board.new_leads] == ["A"]


def test_a_manager_sees_this_month_against_the_last(actors, scene):
    today = timezone.localdate()
    now = timezone.now()
    # Created this month: G, H (H won this month, 40 M); last month: the scene's records if created then.
    this_month = timezone.make_aware(dt.datetime.combine(month_start(today), dt.time(12)))
    last_month = timezone.make_aware(dt.datetime.combine(month_start(today, -1), dt.time(12)))
    Lead.objects.update(created_at=last_month, closed_at=None)
    Lead.objects.filter(pk=scene.e.pk).update(closed_at=last_month + dt.timedelta(days=1))  # won last month
    Lead.objects.filter(pk=scene.f.pk).update(closed_at=now)  # lost this month
    Lead.objects.filter(pk__in=[scene.a.pk, scene.b.pk]).update(created_at=this_month)
    figures = {f.name: f for f in month_figures(user=actors.manager, today=today)}
    assert (figures["new_leads"].current, figures["new_leads"].previous) == (2, 4)
    assert (figures["won_revenue"].current, figures["won_revenue"].previous) == (0, 70 * M)
    assert (figures["win_rate"].current, figures["win_rate"].previous) == (Decimal("0.0"), Decimal("100.0"))
    assert figures["new_leads"].change == Decimal(-50)
    # A was assigned 19 days ago, its first activity 2 days later (B has none): this month's or last month's.
    days = figures["days_to_first_activity"]
    assert {days.current, days.previous} - {None} == {Decimal("2.0")}


def test_a_manager_dashboard_has_pipeline_forecast_and_waiting(actors, scene):
    board = dashboard(user=actors.manager)
    assert board.kind == "manager"
    assert sum(s.count for s in board.stages) == 3
    assert len(board.forecast) == 4  # overdue and the next 3 months
    assert board.forecast[0].expected_revenue == 50 * M


@pytest.mark.parametrize("reader", ["sales1", "leader", "manager"])
def test_the_home_page_is_the_dashboard(client, actors, scene, reader, django_assert_max_num_queries):
    PheuSettings.load()
    client.force_login(actors.by_name(reader))
    with django_assert_max_num_queries(8 if reader == "sales1" else 16):
        page = client.get(reverse("home"))
    assert page.status_code == 200
    assert b'id="dashboard-pipeline"' in page.content


def test_log_in_lands_on_the_dashboard(client, actors):
    from pheu.testing import PASSWORD

    response = client.post(reverse("accounts:login"), {"username": "sales1", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
