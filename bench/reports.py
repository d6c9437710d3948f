"""``reports``: each report page and each home dashboard over many leads with two years of history.

The leads are made by ``bench.rules.fill`` (set-based SQL, created over the last 730 days; 4 teams, shared
stages, 8 salespeople, sources; won and lost records) and then given, by a few set-based ``UPDATE``s, what
the reports read and the fill leaves empty: conversion dates, closing dates (won and lost), expected closing
dates of open opportunities, lost reasons, mediums and campaigns. Activities (≈ one per 5 leads with a
salesperson: done, overdue and planned), team members with capacities, and monthly targets are added alike;
then one assignment run (real-time assignment keeps a live base so: the leads still waiting are those that no
member could take).

Measured in-process with Django's test client, as a sales manager (every record) and as a salesperson (their
own records): the whole page of each report with its default filters, and the home dashboard. Server time =
the request through middleware, view and template. SPEC 13: p95 ≤ 300 ms, ≤ 6 queries; SQLite within 3× of
PostgreSQL at 100,000 leads.

``python -m bench --only reports --n N --reuse`` measures again the base an earlier run of size ``N`` left in
the database (migrated first, so the kept tables of the code measured are installed and rebuilt), without
filling it again; the settings printed say which.
"""

from __future__ import annotations

import os
import platform
import time

import bench.rules
from bench._registry import benchmark
from bench.pipeline import RUNS, _measure
from bench.rules import fill


def _history(vendor: str) -> dict[str, float]:
    """Dates, reasons and UTM columns the fill leaves empty, set in place by set-based SQL."""
    from django.db import connection, transaction

    from pheu.leads.models import Campaign, LostReason, Medium

    reasons = [
        LostReason.objects.create(name=name).pk for name in ("Giá cao", "Chọn đối thủ", "Không liên lạc được")
    ]
    mediums = [Medium.objects.create(name=name).pk for name in ("cpc", "email", "social")]
    campaigns = [Campaign.objects.create(name=name).pk for name in ("Tết 2026", "Hội chợ Q3", "Webinar")]
    if vendor == "postgresql":
        plus_days = "{col} + make_interval(days => ({days})::int)"
        as_date = "({expr})::date"
        least_now = "LEAST({expr}, now())"
    else:
        plus_days = "datetime({col}, ({days}) || ' days')"
        as_date = "date({expr})"
        least_now = "MIN({expr}, datetime('now'))"

    def pick(ids: list[int], salt: int) -> str:
        cases = " ".join(f"WHEN {i} THEN {pk}" for i, pk in enumerate(ids))
        return f"CASE (id * {salt}) % {len(ids) + 2} {cases} ELSE NULL END"

    statements = [
        # Converted 0–19 days after creation (two opportunities in three; the others were made as such).
        "UPDATE leads_lead SET converted_at = "
        + least_now.format(expr=plus_days.format(col="created_at", days="id % 20"))
        + " WHERE type = 'opportunity' AND id % 3 <> 0",
        # Closed 5–64 days after creation.
        "UPDATE leads_lead SET closed_at = "
        + least_now.format(expr=plus_days.format(col="created_at", days="5 + id % 60"))
        + " WHERE won_status <> 'open'",
        # Open opportunities expected to close from 30 days before to ~5 months after creation.
        "UPDATE leads_lead SET expected_close_date = "
        + as_date.format(expr=plus_days.format(col="created_at", days="id % 180 - 30"))
        + " WHERE type = 'opportunity' AND won_status = 'open'",
        f"UPDATE leads_lead SET lost_reason_id = {pick(reasons, 7)} WHERE won_status = 'lost'",
        f"UPDATE leads_lead SET medium_id = {pick(mediums, 11)}, campaign_id = {pick(campaigns, 13)}",
    ]
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "postgresql":
            # These columns are read by the reports' summary triggers only (rebuilt afterwards, as after a
            # restore); the pipeline totals, member loads and scores do not read them.
            cursor.execute("SET LOCAL session_replication_role = replica")
        for sql in statements:
            cursor.execute(sql)
    with connection.cursor() as cursor:
        # Activities on one lead in five with a salesperson, made 0–4 days after assignment; half are done,
        # the others due from 10 days ago to 20 days ahead.
        due = as_date.format(expr="CURRENT_TIMESTAMP") if vendor == "postgresql" else "date('now')"
        due_expr = (
            f"({due} + (id % 30 - 10)::int)"
            if vendor == "postgresql"
            else "date('now', (id % 30 - 10) || ' days')"
        )
        created = plus_days.format(col="assigned_at", days="id % 5")
        cursor.execute(
            "INSERT INTO activities_activity (lead_id, kind, summary, note, due_date, assignee_id, done_at, "
            "done_by_id, feedback, created_by_id, created_at) "
            "SELECT id, "
            "CASE id % 4 WHEN 0 THEN 'call' WHEN 1 THEN 'meeting' WHEN 2 THEN 'email' ELSE 'todo' END, "
            f"'', '', {due_expr}, user_id, CASE WHEN id % 2 = 0 THEN {created} ELSE NULL END, "
            f"CASE WHEN id % 2 = 0 THEN user_id ELSE NULL END, '', NULL, {created} "
            "FROM leads_lead WHERE user_id IS NOT NULL AND id % 5 = 0"
        )
    timings["history_s"] = time.perf_counter() - t0
    from pheu.reports import firsts, summaries

    t0 = time.perf_counter()
    summaries.rebuild()  # the fill and the updates above ran with triggers off
    firsts.rebuild()  # the fill's leads likewise (the activities' triggers found no row to write)
    timings["report_summaries_s"] = time.perf_counter() - t0
    return timings


def _people() -> dict[str, float]:
    """Every salesperson a member of every team (capacity 50 leads per 30 days); targets for 12 months; then
    one assignment run, as a live base has had (the leads left waiting are those no member can take)."""
    from decimal import Decimal

    from django.utils import timezone

    from pheu.accounts.models import User
    from pheu.reports.models import SalesTarget
    from pheu.reports.services import month_start
    from pheu.teams.models import Team, TeamMember

    sellers = list(User.objects.filter(username__startswith="sale"))
    teams = list(Team.objects.all())
    TeamMember.objects.bulk_create(
        [TeamMember(team=t, user=u, capacity=50) for t in teams for u in sellers], ignore_conflicts=True
    )
    today = timezone.localdate()
    SalesTarget.objects.bulk_create(
        [
            SalesTarget(team=t, month=month_start(today, shift), amount=Decimal(5_000_000_000))
            for t in teams
            for shift in range(-1, 12)
        ]
    )
    from pheu.assignment.services import assign_leads

    t0 = time.perf_counter()
    result = assign_leads(actor=None)
    print(f"  assignment run: {result.assigned:,} of {result.considered:,} waiting leads assigned")
    return {"assignment_run_s": time.perf_counter() - t0}


def _scenarios() -> dict[str, float]:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from pheu.accounts.models import Role, User
    from pheu.core.models import PheuSettings
    from pheu.leads.models import Lead
    from pheu.reports.tables import REPORTS

    PheuSettings.load()
    manager, _ = User.objects.get_or_create(username="bench-manager", defaults={"role": Role.SALES_MANAGER})
    seller = User.objects.get(username="sale0")
    opportunities = Lead.objects.open().opportunities().count()
    print(
        f"  leads={Lead.objects.count():,} open opportunities={opportunities:,} "
        f"waiting without a salesperson={Lead.objects.open().filter(user__isnull=True).count():,} "
        f"sale0's records={Lead.objects.filter(user=seller).count():,}"
    )
    figures: dict[str, float] = {}
    worst = 0.0
    for who, user in (("manager", manager), ("sales", seller)):
        client = Client()
        client.force_login(user)
        pages = [(name, reverse("reports:report", args=[name])) for name in REPORTS]
        pages.append(("dashboard", reverse("home")))
        for name, url in pages:
            got = _measure(client, url, {}, {})
            print(
                f"  {who:8s} {name:10s} p50={got['p50_ms']:7.1f} p95={got['p95_ms']:7.1f} ms "
                f"queries={got['queries']:.0f} (slowest {got['slowest_query_ms']:.1f} ms)"
            )
            figures[f"{who}_{name}_p95_ms"] = got["p95_ms"]
            figures[f"{who}_{name}_queries"] = got["queries"]
            worst = max(worst, got["p95_ms"])
    figures["worst_p95_ms"] = worst
    connection.close()
    return figures


def _load() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


@benchmark("reports", default_n=1_000_000)
def reports(n: int) -> dict[str, float]:
    """Fill (or, with ``--reuse``, reuse the base an earlier run of size ``n`` filled), then measure."""
    from django.db import connection

    from bench._db import filled_base, mark_filled
    from pheu.reports import agenda, summaries

    filled_at = filled_base("reports", n)
    settings = connection.settings_dict
    print(
        f"settings: n={n} leads over 730 days, runs={RUNS} per page (+1 warm-up), "
        f"database={connection.vendor} "
        f"{connection.cursor().connection.info.server_version if connection.vendor == 'postgresql' else ''}"
        f" name={settings['NAME']} base={'reused, filled ' + filled_at if filled_at else 'filled now'}"
        f" cpus={os.cpu_count()} load={_load()} python={platform.python_version()}"
    )
    if filled_at is None:
        bench.rules._pageviews_sql = lambda d: ("SELECT 1", [])  # page views play no part in the reports
        timings = fill(n)
        timings.update(_history(connection.vendor))
        timings.update(_people())
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
        mark_filled("reports", n)
        print("fill: " + "  ".join(f"{k}={v:.1f}" for k, v in timings.items()))
    else:
        # As the worker does every few minutes: the rows appended since are folded (the days of a month
        # that ended since the fill into one row).
        t0 = time.perf_counter()
        removed = summaries.compact() + agenda.compact()
        print(f"reused base: summaries compacted ({removed:,} rows folded), {time.perf_counter() - t0:.1f} s")
    figures = _scenarios()
    print(f"load after: {_load()}")
    return figures
