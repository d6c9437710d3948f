"""``pipeline_pages``: the first page of the kanban and of the pipeline list over many leads, by team.

The leads are made by ``bench.rules.fill`` (set-based SQL; 4 teams, shared stages New / Qualified /
Proposition / Won; type ``opportunity`` from Proposition on): a team's board holds ≈ 114,000 active
opportunities. On PostgreSQL the table is vacuumed first, as autovacuum keeps a live base.

Measured in-process with Django's test client as a sales manager (no visibility narrowing) and as a
salesperson ("My pipeline", the default for salespeople): the htmx swap of the board / the list (what a filter
change costs) and the whole page. Server time = the request through middleware, view and template; the
query count is of one request. SPEC 13: p95 ≤ 50 ms, ≤ 6 queries.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import bench.rules
from bench._registry import benchmark
from bench.rules import N_DEFAULT, fill

RUNS = 20


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _measure(client: Any, url: str, params: dict[str, Any], headers: dict[str, str]) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params, headers=headers)  # warm: templates, translations
    latencies = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        response = client.get(url, params, headers=headers)
        latencies.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get(url, params, headers=headers)
    return {
        "p50_ms": statistics.median(latencies),
        "p95_ms": _percentile(latencies, 95),
        "queries": len(queries),
        "slowest_query_ms": max((float(q["time"]) * 1000 for q in queries.captured_queries), default=0),
    }


def _scenarios(label: str) -> dict[str, float]:
    from django.test import Client
    from django.urls import reverse

    from pheu.accounts.models import Role, User
    from pheu.core.models import PheuSettings
    from pheu.leads.models import Lead
    from pheu.teams.models import Team, TeamMember

    PheuSettings.load()
    team = Team.objects.order_by("sequence").first()
    assert team is not None
    manager, _ = User.objects.get_or_create(username="bench-manager", defaults={"role": Role.SALES_MANAGER})
    seller = User.objects.get(username="sale0")
    TeamMember.objects.get_or_create(team=team, user=seller)
    rows = Lead.objects.filter(team=team, active=True, type="opportunity").count()
    print(f"{label}: {rows:,} active opportunities in the team filtered on")
    figures: dict[str, float] = {}
    htmx = {"HX-Request": "true"}
    for who, user in (("manager", manager), ("sales", seller)):
        client = Client()
        client.force_login(user)
        params: dict[str, object] = (
            {"team": team.pk} if who == "manager" else {"team": team.pk, "mine": "true"}
        )
        for page, url, target in (
            ("kanban", reverse("leads:pipeline"), "pipeline-board"),
            ("list", reverse("leads:pipeline_list"), "pipeline-list"),
        ):
            swap = _measure(client, url, params, {**htmx, "HX-Target": target})
            whole = _measure(client, url, params, {})
            print(
                f"  {who:8s} {page:6s} swap p50={swap['p50_ms']:.1f} p95={swap['p95_ms']:.1f} ms "
                f"queries={swap['queries']:.0f} (slowest {swap['slowest_query_ms']:.1f} ms)  "
                f"page p95={whole['p95_ms']:.1f} ms queries={whole['queries']:.0f}"
            )
            figures[f"{label}_{who}_{page}_p95_ms"] = swap["p95_ms"]
            figures[f"{label}_{who}_{page}_queries"] = swap["queries"]
            figures[f"{label}_{who}_{page}_page_p95_ms"] = whole["p95_ms"]
    return figures


@benchmark("pipeline_pages", default_n=N_DEFAULT)
def pipeline_pages(n: int) -> dict[str, float]:
    from django.db import connection

    # Page views play no part in the pipeline: the fill skips them (and so does not depend on their table).
    bench.rules._pageviews_sql = lambda d: ("SELECT 1", [])
    timings = fill(n)
    print("fill: " + "  ".join(f"{k}={v:.1f}" for k, v in timings.items()))
    if connection.vendor == "postgresql":
        # As a live base is kept: vacuumed (the board's totals are index-only scans of lead_pipeline_idx).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) leads_lead")
    return _scenarios("as_filled")
