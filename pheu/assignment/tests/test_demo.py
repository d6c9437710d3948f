"""The demo's assignment settings."""

from __future__ import annotations

import pytest
from django.utils import timezone

from pheu.assignment.services import run_scheduled_assignments
from pheu.demo.services import load_demo
from pheu.teams.models import Team, TeamMember

pytestmark = pytest.mark.django_db


def test_the_demo_teams_assign_on_a_schedule_and_one_salesperson_is_away_next_week():
    load_demo(leads=30, seed=7)

    hours = dict(
        Team.objects.filter(assignment_every_hours__isnull=False).values_list(
            "name", "assignment_every_hours"
        )
    )
    assert hours == {"Miền Bắc": 4, "Miền Nam": 4, "International": 24}
    [away] = TeamMember.objects.filter(away_from__isnull=False)
    assert (away.team.name, away.away_from.weekday(), (away.away_until - away.away_from).days) == (
        "Miền Bắc",
        0,
        4,
    )
    assert away.away_from > timezone.localdate() and not away.is_away(timezone.localdate())
    assert len(run_scheduled_assignments()) == 3  # the worker runs each team once
