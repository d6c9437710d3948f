"""Two runs at once, in two processes on PostgreSQL: no lead assigned twice, no capacity exceeded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from pheu.assignment.models import AssignmentDecision, AssignmentRun
from pheu.leads.models import Lead
from pheu.testing import make_lead, make_member, make_team, make_user

# The child process: a run that waits 1.5 s after reading the leads, so that both runs overlap.
CHILD = """
import time, django
django.setup()
from pheu.assignment import services
read = services.read_leads
def slow(*args, **kwargs):
    rows = read(*args, **kwargs)
    time.sleep(1.5)
    return rows
services.read_leads = slow
services.assign_leads(actor=None)
"""


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_never_assign_a_lead_twice_nor_exceed_a_capacity():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time and no row locks: the race cannot happen there")
    team = make_team("T")
    for index in range(3):
        make_member(team=team, user=make_user(f"m{index}"), capacity=10)
    for _index in range(50):
        make_lead()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "PHEU_DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "pheu.settings"}
    root = Path(__file__).resolve().parents[3]
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=root, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for child in children:
        _out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()

    runs = list(AssignmentRun.objects.order_by("started_at"))
    assert len(runs) == 2
    assert runs[1].started_at < runs[0].finished_at  # they overlapped
    assert Lead.objects.filter(user__isnull=False).count() == 30
    per_user = dict(
        Lead.objects.values_list("user__username").annotate(n=Count("id")).filter(user__isnull=False)
    )
    assert per_user == {"m0": 10, "m1": 10, "m2": 10}
    assert not AssignmentDecision.objects.values("lead").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert sorted(run.assigned for run in runs) == [0, 30]
