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


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_into_one_team_store_every_lead_and_never_exceed_a_capacity():
    """8 clients create leads at once through the API, each left to real-time assignment, all into one
    team whose members fill up meanwhile: every lead is stored, no answer is an error (a deadlock between
    the members' locks and the foreign-key checks once lost a lead with a 500), no member goes over."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: the creations cannot interleave there")
    import threading

    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from pheu.accounts.models import Role
    from pheu.core.models import PheuSettings

    settings = PheuSettings.load()
    settings.realtime_assignment = True
    settings.save()
    # Rules on a plain field: a transactional test before this one emptied the countries of the migration.
    team = make_team("T", sequence=1, assignment_domain="[['company_size', '>=', 10]]")
    make_team("Other", sequence=5, assignment_domain="[['company_size', '<', 10]]")
    for index in range(3):
        make_member(team=team, user=make_user(f"m{index}"), capacity=7)
    token = Token.objects.create(user=make_user("integration", role=Role.SALES_MANAGER)).key
    clients, each = 8, 6
    barrier = threading.Barrier(clients)
    statuses: list[int] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            for n in range(each):
                body = {"name": f"Lead {index}-{n}", "company_size": 50, "user": None}
                status = api.post("/api/v1/leads/", body, format="json").status_code
                with lock:
                    statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [201] * (clients * each)
    assert Lead.objects.filter(team=team).count() == clients * each
    per_user = dict(
        Lead.objects.filter(user__isnull=False).values_list("user__username").annotate(n=Count("id"))
    )
    assert per_user == {"m0": 7, "m1": 7, "m2": 7}
    assert AssignmentDecision.objects.filter(user__isnull=False).count() == 21  # one per lead given


# Two `pheu assign` at once, as an operator's cron and a colleague's terminal would. Each child process runs
# one `pheu assign` per repetition when its "go" file appears (the two files appear together), waiting a
# little after reading the waiting leads so that both hold their reading at the same time; the processes live
# through every repetition, so that the test pays Django's start-up twice, not twenty times.
ASSIGN_CHILD = """
import os, sys, time, django
from pathlib import Path
django.setup()
from django.core.management import call_command
from django.db import connection
from pheu.assignment import services
read = services.read_leads
def slow(*args, **kwargs):
    rows = read(*args, **kwargs)
    time.sleep(0.5)
    return rows
services.read_leads = slow
folder, me = Path(sys.argv[1]), sys.argv[2]
for repetition in range(int(sys.argv[3])):
    go = folder / f"go-{repetition}"
    while not go.exists():
        time.sleep(0.02)
    call_command("assign", "--json")
    connection.close()
    (folder / f"done-{repetition}-{me}").touch()
"""
REPETITIONS = 10
# Waiting leads a repetition: 10,000, as issue 28 asks (10 repetitions ≈ 90 s on the shared 2-core machine;
# PHEU_CONCURRENCY_LEADS sets fewer for a quick local run). Three seats for four leads: the capacities bind.
WAITING = int(os.environ.get("PHEU_CONCURRENCY_LEADS", "10000"))
MEMBERS = 10
CAPACITY = WAITING * 3 // 4 // MEMBERS


@pytest.mark.django_db(transaction=True)
def test_two_pheu_assign_at_once_never_decide_a_lead_twice_nor_exceed_a_capacity_ten_times(tmp_path):
    """SPEC 5 and 14: two ``pheu assign`` started together over the waiting leads, 10 times — no lead
    decided twice, no member over capacity, every seat filled once. Each repetition has a team of its own
    (the earlier ones are switched off) and leaves no lead waiting for the next."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time and no row locks: the race cannot happen there")
    import time

    from pheu.teams.models import Team

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "PHEU_DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "pheu.settings"}
    root = Path(__file__).resolve().parents[3]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", ASSIGN_CHILD, str(tmp_path), name, str(REPETITIONS)],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
    try:
        for repetition in range(REPETITIONS):
            Team.objects.update(active=False)
            team = make_team(f"Round {repetition}", sequence=1)
            members = [
                make_member(team=team, user=make_user(f"r{repetition}m{index}"), capacity=CAPACITY)
                for index in range(MEMBERS)
            ]
            Lead.objects.bulk_create(Lead(name=f"Lead {repetition}-{n}") for n in range(WAITING))
            (tmp_path / f"go-{repetition}").touch()
            deadline = time.monotonic() + 120
            while not all((tmp_path / f"done-{repetition}-{name}").exists() for name in ("a", "b")):
                failed = [child for child in children if child.poll() not in (None, 0)]
                assert not failed, failed[0].stderr.read().decode()
                assert time.monotonic() < deadline, f"repetition {repetition}: the runs did not finish"
                time.sleep(0.05)

            runs = list(AssignmentRun.objects.order_by("-started_at")[:2])[::-1]
            assert runs[1].started_at < runs[0].finished_at, (
                f"repetition {repetition}: the runs did not overlap"
            )
            decisions = AssignmentDecision.objects.filter(run__in=runs)
            twice = decisions.values("lead").annotate(n=Count("id")).filter(n__gt=1)
            assert not twice.exists(), f"repetition {repetition}: a lead decided twice"
            per_member = dict(
                Lead.objects.filter(team=team, user__isnull=False)
                .values_list("user_id")
                .annotate(n=Count("id"))
            )
            assert per_member == {member.user_id: CAPACITY for member in members}, f"repetition {repetition}"
            assert sum(run.assigned for run in runs) == MEMBERS * CAPACITY
            Lead.objects.filter(active=True, user__isnull=True).update(
                active=False
            )  # none waits into the next
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
