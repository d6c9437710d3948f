"""The demo's assignment: each region's team assigns its waiting leads on a schedule (the worker runs them),
and one salesperson of the north is away next week, so that the availability page has something to show."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from pheu.accounts.models import Role
from pheu.teams.models import Team, TeamMember

# Team name (as the demo creates them) → hours between scheduled runs.
SCHEDULES: dict[str, int] = {"Miền Bắc": 4, "Miền Nam": 4, "International": 24}


def load(*, seed: int, users: dict[str, Any]) -> None:
    rng = random.Random(seed)
    for name, hours in SCHEDULES.items():
        Team.objects.filter(name=name).update(assignment_every_hours=hours)
    north = list(
        TeamMember.objects.filter(
            team__name="Miền Bắc", user__in=list(users.values()), user__role=Role.SALESPERSON
        )
        .order_by("id")
        .values_list("pk", flat=True)
    )
    if north:
        start = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())  # next Monday
        TeamMember.objects.filter(pk=rng.choice(north)).update(
            away_from=start, away_until=start + timedelta(days=4)
        )
