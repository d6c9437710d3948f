"""Batch assignment (SPEC 13): 100,000 waiting leads, 50 teams and 500 members with rules and capacities.

Reports the time of a full run and of a dry run, and the number of SQL queries of each (which must not grow
with the number of leads). The scene is committed first (waiting leads arrived earlier, as in use) and is
deleted at the end; the run is timed without and with its commit, where PostgreSQL checks the deferred
foreign keys. Timings on a shared 2-core machine vary by ±15%: the run is repeated (``REPEAT``).
"""

from __future__ import annotations

import os
import random
import time

from bench._registry import benchmark

# Runs measured on the same scene (all but the last rolled back, after which the deferred checks have run and
# only the commit's WAL flush is left): the figures are the median run's, with the fastest and slowest.
REPEAT = int(os.environ.get("BENCH_ASSIGN_REPEAT", "3"))
COUNTRIES = ["VN", "US", "CA", "FR", "DE", "JP", "SG", "TH", "GB", "AU"]
LANGUAGES = ["vi", "en", "fr", "de", "ja"]


def _profiler():
    """``BENCH_PROFILE=1``: print the top functions (cumulative time) of each measured call."""
    import contextlib
    import cProfile
    import os
    import pstats

    @contextlib.contextmanager
    def profile(label: str):
        if not os.environ.get("BENCH_PROFILE"):
            yield
            return
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            yield
        finally:
            profiler.disable()
            print(f"--- profile: {label}")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    return profile


@benchmark("assignment_batch", default_n=100_000)
def assignment_batch(n: int) -> dict[str, float]:
    from django.db import connection, transaction
    from django.db.models import F, Max
    from django.test.utils import CaptureQueriesContext

    from pheu.accounts.models import Role, User
    from pheu.assignment.models import AssignmentRun
    from pheu.assignment.services import assign_leads
    from pheu.contacts.models import Country
    from pheu.leads.models import Lead, LeadScore
    from pheu.teams.models import Team, TeamMember

    rnd = random.Random(5)
    figures: dict[str, float] = {}
    # The scene is committed before the run, as waiting leads are in use (they arrived earlier), and is
    # removed afterwards. The run's figure includes its commit (the deferred foreign keys are checked there).
    with transaction.atomic():
        countries = {c.code: c for c in Country.objects.filter(code__in=COUNTRIES)}
        teams = []
        for index in range(50):
            code = COUNTRIES[index % len(COUNTRIES)]
            rule = f"[['country_id', '=', '{code}'], ['company_size', '>=', {(index // 10) * 50}]]"
            teams.append(
                Team(
                    name=f"Bench team {index}",
                    sequence=index,
                    assignment_domain=rule,
                    min_score=index % 3 * 10,
                )
            )
        teams[-1].assignment_domain = ""  # the catch-all
        Team.objects.bulk_create(teams)
        users = User.objects.bulk_create(
            [User(username=f"bench{index}", password="!", role=Role.SALESPERSON) for index in range(500)]
        )
        members = []
        for index, user in enumerate(users):
            team = teams[index % 50]
            rule = ""
            if index % 2:
                rule = f"[['language', '=', '{LANGUAGES[index % len(LANGUAGES)]}']]"
            elif index % 5 == 0:
                rule = "[['company_size_band', '=', '250+']]"
            members.append(
                TeamMember(team=team, user=user, capacity=150 + index % 200, assignment_domain=rule)
            )
        TeamMember.objects.bulk_create(members)
        leads = []
        for index in range(n):
            lead = Lead(
                name=f"Bench lead {index}",
                country=countries[rnd.choice(COUNTRIES)],
                language=rnd.choice(LANGUAGES),
                company_size=rnd.choice([5, 20, 80, 120, 300, 1000]),
            )
            lead.normalize()
            leads.append(lead)
        Lead.objects.bulk_create(leads, batch_size=5000)
        # Scores 0–60, pseudo-random by id, in the score rows the insert trigger made.
        LeadScore.objects.filter(lead__name__startswith="Bench lead ").update(
            score=(F("lead_id") * 7919 + 13) % 61
        )
    last_run = AssignmentRun.objects.aggregate(last=Max("pk"))["last"] or 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
    try:
        profile = _profiler()
        with CaptureQueriesContext(connection) as dry_queries:
            start = time.perf_counter()
            with profile("dry run"):
                dry = assign_leads(actor=None, dry_run=True)
            figures["dry_run_s"] = time.perf_counter() - start
        figures["dry_run_queries"] = len(dry_queries.captured_queries)
        samples: list[tuple[float, float, float]] = []  # (with commit, run, deferred checks)
        for attempt in range(REPEAT):
            committed = attempt == REPEAT - 1  # the others are rolled back: each run finds the same scene
            if attempt and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
                    cursor.execute("CHECKPOINT")
            with CaptureQueriesContext(connection) as run_queries:
                start = time.perf_counter()
                with transaction.atomic():
                    with profile("run"):
                        result = assign_leads(actor=None)
                    run_s = time.perf_counter() - start
                    run_query_count = len(run_queries.captured_queries)
                    if connection.vendor == "postgresql":
                        # The deferred foreign-key checks, which the commit would run: timed on their own.
                        with connection.cursor() as cursor:
                            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    checks_s = time.perf_counter() - start - run_s
                    if not committed:
                        transaction.set_rollback(True)
                samples.append((time.perf_counter() - start, run_s, checks_s))
        samples.sort()
        middle = samples[len(samples) // 2]
        figures["run_s"], figures["deferred_checks_s"] = middle[1], middle[2]
        figures["run_with_commit_s"] = middle[0]
        figures["run_with_commit_min_s"], figures["run_with_commit_max_s"] = samples[0][0], samples[-1][0]
        figures["runs"] = len(samples)
        figures["run_queries"] = run_query_count
        if os.environ.get("BENCH_ASSIGN_DEBUG"):
            for q in sorted(run_queries.captured_queries, key=lambda q: -float(q["time"]))[:4]:
                print(q["time"], q["sql"][:300])
            for q in sorted(dry_queries.captured_queries, key=lambda q: -float(q["time"]))[:2]:
                print("dry", q["time"], q["sql"][:300])
        figures["leads"] = result.considered
        figures["teamed"] = result.teamed
        figures["assigned"] = result.assigned
        assert dry.assigned == result.assigned
    finally:
        _remove_scene(teams, users, last_run)
    return figures


def _remove_scene(teams, users, last_run: int) -> None:
    """Delete what the benchmark made: its leads (with their history and assignment records), members, users
    and teams, so that the benchmarks after it start from the base they expect."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from pheu.accounts.models import User
    from pheu.assignment.models import AssignmentDecision, AssignmentRun
    from pheu.core.models import HistoryEntry
    from pheu.leads.models import Lead
    from pheu.teams.models import Team, TeamMember

    lead_ids = Lead.objects.filter(name__startswith="Bench lead ").values("pk")
    with transaction.atomic():
        AssignmentDecision.objects.filter(lead__in=lead_ids).delete()
        AssignmentRun.objects.filter(pk__gt=last_run).delete()
        HistoryEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Lead), object_id__in=lead_ids
        ).delete()
        Lead.objects.filter(pk__in=lead_ids)._raw_delete(connection.alias)
        TeamMember.objects.filter(team__in=teams).delete()
        User.objects.filter(pk__in=[user.pk for user in users]).delete()
        Team.objects.filter(pk__in=[team.pk for team in teams]).delete()
