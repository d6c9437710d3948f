"""What a run writes — the same rows on every database (PostgreSQL writes a run in one statement, built
from arrays; other databases in bulk from Python) — and when it re-scores."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pheu.accounts.models import Role
from pheu.assignment.facts import load_config, parse_rules, read_leads
from pheu.assignment.models import AssignmentDecision, AssignmentRun
from pheu.assignment.planner import Plan
from pheu.assignment.services import _decision_row, assign_leads, candidate_leads, redistribute_leads
from pheu.assignment.testing import make_waiting_leads
from pheu.assignment.writes import DECISION_COLUMNS, decision_row, lead_changes, write_run
from pheu.core.history import timeline_of
from pheu.core.models import HistoryEntry
from pheu.leads.models import Lead
from pheu.scoring.models import ScoringRule
from pheu.testing import country, make_lead, make_member, make_stage, make_team, make_user, set_scores

pytestmark = pytest.mark.django_db

DECISION_FIELDS = [
    f.attname for f in AssignmentDecision._meta.concrete_fields if f.name not in ("id", "run", "created_at")
]


def _check_rows(result, run_id, previous_names, actor) -> None:
    """Every written decision has its decision row exactly as the Python builder makes it, nothing else was
    written (no history row: the lead's history shows the decision), and the history shows it as it should."""
    written = [d for d in result.decisions if d.writes]
    stored = {row.lead_id: row for row in AssignmentDecision.objects.filter(run_id=run_id)}
    assert sorted(stored) == sorted(d.lead_id for d in written)
    assert not HistoryEntry.objects.filter(kind="change").exists()
    for d in written:
        expected = _decision_row(d, None, timezone.now())
        row = stored[d.lead_id]
        assert [getattr(row, name) for name in DECISION_FIELDS] == [
            getattr(expected, name) for name in DECISION_FIELDS
        ]
        entry = timeline_of(Lead.objects.get(pk=d.lead_id))[0]
        assert (entry.pk, getattr(entry, "decision_id", None), entry.author) == (None, row.pk, actor)
        assert f"#{run_id}" in entry.body
        changes = {c["field"]: (c["old"], c["new"], c["old_id"], c["new_id"]) for c in entry.changes}
        expected_changes: dict[str, tuple[Any, ...]] = {}
        if d.team_chosen:
            expected_changes["team"] = (None, d.team_name, None, d.team_id)
        if d.user_id is not None:
            old = previous_names.get(d.previous_user_id)
            expected_changes["user"] = (old, d.user_label, d.previous_user_id, d.user_id)
        if d.converted:
            expected_changes["type"] = ("lead", "opportunity", "lead", "opportunity")
        assert changes == expected_changes


def test_a_run_writes_the_decisions_as_the_python_builder_does_and_the_history_shows_them():
    manager = make_user("boss", role=Role.SALES_MANAGER, first_name="Big", last_name="Boss")
    direct = make_team(
        "Direct 100% “quoted”",
        sequence=1,
        use_leads=False,
        min_score=5,
        assignment_domain="[['country_id', '=', 'US']]",
    )
    stage = make_stage("New", sequence=1, probability=15)
    sales = make_team("Sales", sequence=2)
    make_member(
        team=direct,
        user=make_user("ann", first_name="Ann", last_name="O'Neil"),
        capacity=3,
        assignment_domain="[['company_size', '>', 100]]",
    )
    make_member(team=direct, user=make_user("bob"), capacity=2)
    make_member(team=sales, user=make_user("cy"), capacity=1)
    for index in range(10):
        lead = make_lead(country="US" if index % 2 else "VN", company_size=index * 40)
        set_scores([lead], index * 3)
    by_hand = make_lead(country="US", user=make_user("manual"))

    result = assign_leads(actor=manager)

    # Direct: the 4 US leads of 5 points or more (ann takes 3, then bob); Sales: the 6 others (cy takes 1).
    assert (result.teamed, result.assigned, result.converted) == (10, 5, 4)
    _check_rows(result, result.run_id, {}, manager)
    converted = Lead.objects.filter(type="opportunity")
    assert converted.count() == 4
    assert set(converted.values_list("stage_id", "probability")) == {(stage.pk, 15)}
    assert all(lead.converted_at and lead.stage_changed_at for lead in converted)
    assert Lead.objects.filter(team=sales, user__isnull=True).count() == 5  # team only: cy is full
    assert Lead.objects.get(pk=by_hand.pk).team is None  # manual assignment wins


def test_a_large_run_writes_in_parts_exactly_what_one_statement_writes(monkeypatch):
    """On PostgreSQL a large run sends its writes in WRITE_PARTS statements while it decides the next part
    (here a "large" run is made of 7 leads): the rows are those of one statement."""
    from pheu.assignment import writes

    monkeypatch.setattr(writes, "WRITE_PART_MIN", 1)
    manager = make_user("boss", role=Role.SALES_MANAGER)
    first, second = make_team("First", sequence=1, min_score=10), make_team("Second", sequence=2)
    make_member(team=first, user=make_user("ann", first_name="Ann"), capacity=2)
    make_member(team=second, user=make_user("bob"), capacity=3)
    for index, lead in enumerate(make_waiting_leads(7)):
        set_scores([lead], index * 4)

    with CaptureQueriesContext(connection) as queries:
        result = assign_leads(actor=manager)

    assert (result.teamed, result.assigned) == (7, 5)
    _check_rows(result, result.run_id, {}, manager)
    assert Lead.objects.filter(team=first).count() == 4 and Lead.objects.filter(team=second).count() == 3
    if connection.vendor == "postgresql":
        statements = [q for q in queries.captured_queries if "WITH v AS MATERIALIZED" in q["sql"]]
        assert len(statements) == writes.WRITE_PARTS == 4


def _stored_leads() -> dict[int, dict[str, Any]]:
    columns = [f.attname for f in Lead._meta.concrete_fields]
    return {values["id"]: values for values in Lead.objects.values(*columns)}


def test_a_run_stores_what_python_computes_for_the_same_plan(monkeypatch):
    """write_run is SQL written for each database (PostgreSQL: in parts, from arrays; SQLite: from JSON, the
    decisions in bulk): on each, the stored leads are the leads as read changed by lead_changes() (what real
    time writes one lead at a time) and updated now, the decision rows those of decision_row(), and a lead
    changed between the read and the write is left as it was."""
    from pheu.assignment import writes

    monkeypatch.setattr(writes, "WRITE_PART_MIN", 2)  # PostgreSQL: several statements
    stage = make_stage("New", sequence=1, probability=15)
    later = make_stage("Later", sequence=2, probability=60)
    direct = make_team("Direct", sequence=1, use_leads=False, min_score=5)  # converts, from 5 points
    sales = make_team("Sales", sequence=2)
    make_member(team=direct, user=make_user("ann"), capacity=3)
    make_member(
        team=direct, user=make_user("bob"), capacity=1, assignment_domain="[['country_id', '=', 'US']]"
    )
    make_member(team=sales, user=make_user("cy"), capacity=2)
    leads = make_waiting_leads(9, score=7, country="US")
    set_scores(leads[6:], 1)  # to Sales
    Lead.objects.filter(pk=leads[1].pk).update(auto_probability=False, probability=33)
    Lead.objects.filter(pk=leads[2].pk).update(stage=later)  # converted in the stage it has
    Lead.objects.filter(pk=leads[3].pk).update(team=sales)  # has its team: Sales' member only
    changed_meanwhile = leads[4]
    now = timezone.now()
    config = load_config(now=now)
    parse_rules(config)
    rows = read_leads(candidate_leads(), config)
    Lead.objects.filter(pk=changed_meanwhile.pk).update(user=make_user("colleague"))
    before = _stored_leads()
    run = AssignmentRun.objects.create(started_at=now, trigger="manual")
    plan = Plan(config, rows)

    written = write_run(
        config=config, rows=rows, plan=plan, keep=lambda d: d.lead_id != leads[8].pk, run=run, now=now
    )

    decisions = [d for d in plan.decisions if d is not None and d.writes and d.lead_id != leads[8].pk]
    assert written == {d.lead_id for d in decisions} - {changed_meanwhile.pk}
    assert {d.converted for d in decisions} == {True, False} and any(d.user_id is None for d in decisions)
    by_id = {row.id: row for row in rows}
    expected = before
    for d in decisions:
        if d.lead_id in written:
            expected[d.lead_id] = {
                **before[d.lead_id],
                **lead_changes(d, by_id[d.lead_id], config, now),
                "updated_at": now,
            }
    assert _stored_leads() == expected
    assert Lead.objects.get(pk=leads[0].pk).stage_id == stage.pk  # the first stage, its probability
    assert Lead.objects.get(pk=leads[2].pk).stage_id == later.pk
    stored = {
        row.lead_id: [getattr(row, c) for c in DECISION_COLUMNS] for row in AssignmentDecision.objects.all()
    }
    assert stored == {
        d.lead_id: [getattr(decision_row(d, run, now), c) for c in DECISION_COLUMNS]
        for d in decisions
        if d.lead_id in written
    }


def test_a_redistribution_writes_the_previous_salesperson():
    manager = make_user("boss", role=Role.SALES_MANAGER)
    team = make_team("T")
    away = make_member(team=team, user=make_user("away", first_name="Away", last_name="Person"), capacity=5)
    make_member(team=team, user=make_user("mate"), capacity=5, weight=0)
    make_waiting_leads(3)
    assign_leads(actor=manager)
    away.away_from = timezone.localdate()
    away.save()

    result = redistribute_leads(actor=manager, team=team)

    assert result.assigned == 3
    _check_rows(result, result.run_id, {away.user_id: away.user.display_name}, manager)  # the active language
    assert set(Lead.objects.values_list("user__username", flat=True)) == {"mate"}


def test_a_lead_changed_between_the_read_and_the_write_is_left_alone(monkeypatch):
    """The candidates are read without locks: a lead given a salesperson by hand, or a team by another run,
    after the run read it keeps what it was given, and the run counts and explains only what it wrote."""
    from pheu.assignment import services

    manager = make_user("boss", role=Role.SALES_MANAGER)
    first, second = make_team("First", sequence=1), make_team("Second", sequence=2)
    make_member(team=first, user=make_user("seller"), capacity=10)
    by_hand, by_other_run, untouched = make_lead(), make_lead(), make_lead()
    colleague = make_user("colleague")
    from pheu.assignment.facts import read_leads as read  # what services.read_leads is

    def read_then_others_write(*args, **kwargs):
        rows = read(*args, **kwargs)
        Lead.objects.filter(pk=by_hand.pk).update(user=colleague)
        Lead.objects.filter(pk=by_other_run.pk).update(team=second)
        return rows

    monkeypatch.setattr(services, "read_leads", read_then_others_write)
    result = assign_leads(actor=manager)

    assert result.assigned == 1 and result.teamed == 1
    assert [d.lead_id for d in result.decisions if d.writes] == [untouched.pk]
    assert set(AssignmentDecision.objects.values_list("lead_id", flat=True)) == {untouched.pk}
    leads = {lead.pk: (lead.team_id, lead.user_id) for lead in Lead.objects.all()}
    assert leads[by_hand.pk] == (None, colleague.pk)
    assert leads[by_other_run.pk] == (second.pk, None)
    assert leads[untouched.pk][0] == first.pk
    run = AssignmentRun.objects.get()
    assert (run.teamed, run.assigned) == (1, 1)


def _score_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if 'UPDATE "leads_leadscore"' in q["sql"]]


def test_a_run_re_scores_when_a_scoring_rule_reads_the_team():
    manager = make_user("boss", role=Role.SALES_MANAGER)
    team = make_team("Sales")
    make_member(team=team, user=make_user("m"))
    ScoringRule.objects.create(name="In Sales", domain="[['team', '=', 'Sales']]", points=7)
    lead = make_lead()

    with CaptureQueriesContext(connection) as queries:
        assign_leads(actor=manager)

    assert len(_score_updates(queries.captured_queries)) == 1
    assert Lead.objects.get(pk=lead.pk).score == 7


def test_a_run_does_not_re_score_when_no_scoring_rule_reads_what_it_changes():
    manager = make_user("boss", role=Role.SALES_MANAGER)
    team = make_team("Sales")
    make_member(team=team, user=make_user("m"))
    ScoringRule.objects.create(name="US", domain="[['country_id', '=', 'US']]", points=7)
    ScoringRule.objects.create(name="Nothing", domain="[['team', '=', 'Sales']]", points=0)
    make_lead(country="US")

    with CaptureQueriesContext(connection) as queries:
        assert assign_leads(actor=manager).assigned == 1

    assert _score_updates(queries.captured_queries) == []


def test_the_rules_cost_the_same_queries_whatever_their_number():
    manager = make_user("boss", role=Role.SALES_MANAGER)
    codes = ["US", "VN", "FR", "DE", "JP", "CA", "GB", "SG"]

    def dry_run_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assign_leads(actor=manager, dry_run=True)
        return len(queries.captured_queries)

    for code in codes[:2]:
        make_member(
            team=make_team(code, assignment_domain=f"[['country_id', '=', '{code}']]"), user=make_user()
        )
    make_lead(country="US")
    few = dry_run_queries()
    for code in codes[2:]:
        make_member(
            team=make_team(code, assignment_domain=f"[['country_id', '=', '{code}']]"), user=make_user()
        )
    assert dry_run_queries() == few
    assert country("US")


def test_decisions_follow_deletions_without_database_constraints():
    manager = make_user("boss", role=Role.SALES_MANAGER)
    team = make_team("T")
    seller = make_user("seller")
    make_member(team=team, user=seller)
    kept, deleted = make_waiting_leads(2)
    result = assign_leads(actor=manager)
    assert AssignmentDecision.objects.count() == 2

    Lead.objects.filter(pk=deleted.pk).delete()
    seller.delete()

    [decision] = AssignmentDecision.objects.all()
    assert (decision.lead_id, decision.run_id, decision.user_id, decision.member_id) == (
        kept.pk,
        result.run_id,
        None,
        None,
    )
    AssignmentRun.objects.all().delete()
    assert not AssignmentDecision.objects.exists()
