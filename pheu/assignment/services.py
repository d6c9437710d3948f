"""Automatic assignment (SPEC section 5): one service for real time, the worker, buttons, API and CLI.

Which leads take part:

- **team phase**: open, active leads with neither team nor salesperson go to the first team (by sequence;
  ties: most free capacity) whose rule matches and whose minimum score their score reaches; a lead under
  every matching team's minimum keeps no team;
- **member phase**: open, active leads with a team and no salesperson (from the team phase, or a team set
  earlier) go, best-scored first (ties: oldest first), to an available member of the team — active, not
  opted out, not away, fewer leads given in the team in the last 30 days than their capacity — whose rule
  matches; members with a rule are tried before members without one; among them the most free capacity
  relative to capacity, times the weight (ties: fewest leads, then the earliest membership). A lead no member
  can take keeps its team and waits for the next run.

A lead with a salesperson never takes part: manual assignment always wins. Redistribution (away members)
is the only move of an assigned lead, and only of a lead the service itself assigned and nobody touched.

Eligibility is decided by the compiled SQL of each rule (:mod:`pheu.assignment.facts`), the allocation in
memory, the writes in bulk: a run costs a constant number of queries whatever the number of leads.
Concurrency: a run locks the members of the teams it fills, so two runs count capacities one after the
other, and writes a lead only if its team and salesperson are still those it read: a lead that another run
or a person changed meanwhile is left alone (PostgreSQL re-checks the condition on the latest version of the
row, after waiting for the other writer), so no lead is assigned twice.

The module's parts: the plan on plain values (:mod:`pheu.assignment.planner`), what it decides from
(:mod:`pheu.assignment.facts`), the writes per dialect (:mod:`pheu.assignment.writes`); here the services.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.assignment import config_cache
from pheu.assignment.exceptions import AssignmentError
from pheu.assignment.facts import load_config, parse_rules, read_leads, recent_count
from pheu.assignment.models import AssignmentDecision, AssignmentRun, AssignmentTrigger
from pheu.assignment.planner import (
    AssignmentResult,
    Config,
    LeadDecision,
    LeadRow,
    MemberFacts,
    Move,
    Outcome,
    Plan,
    WaitingReason,
    choose_member,
    moves_between,
    plan_assignment,
    summarize,
    waiting_reason,
    with_given,
    without_member,
)
from pheu.assignment.writes import (
    WRITTEN_FIELDS,
    decision_row,
    has_room,
    lead_changes,
    lock_members,
    lock_team_members,
    update_if_room,
    write_run,
)
from pheu.core.models import HistoryEntry
from pheu.core.rows import ReadsRealTable
from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead
from pheu.leads.services.steps import leads_changed
from pheu.rules import DomainError, clean_domain
from pheu.teams.models import Team, TeamMember
from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.services import emit_events

__all__ = [  # the planner's values are named here too: other apps and the tests read them from the services
    "AssignmentResult",
    "LeadDecision",
    "Move",
    "Outcome",
    "WaitingReason",
    "plan_assignment",
    "waiting_reason",
]

logger = logging.getLogger(__name__)

# The planner's and the writers' names as the services had them (read by the tests).
_Plan = Plan
_choose_member = choose_member
_decision_row = decision_row
_result = summarize


# --- reading the candidates --------------------------------------------------------------------------
def candidate_leads(*, lead_ids: Collection[int] | None = None, team_id: int | None = None) -> QuerySet[Lead]:
    """Open, active leads without a salesperson (with ``team_id``: of that team or of none)."""
    leads = Lead.objects.filter(active=True, won_status=WonStatus.OPEN, user__isnull=True)
    if lead_ids is not None:
        leads = leads.filter(pk__in=list(lead_ids))
    if team_id is not None:
        leads = leads.filter(Q(team__isnull=True) | Q(team_id=team_id))
    return leads.order_by("id")


def _locked(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    if connection.features.has_select_for_update_skip_locked:
        return leads.select_for_update(skip_locked=True, of=("self",))
    return leads


# --- writing a run ---------------------------------------------------------------------------------
# Lead fields an assignment writes, as the rule language names them: re-scoring is needed only when an
# active scoring rule reads one of them.
ASSIGNED_FIELDS = WRITTEN_FIELDS


def _write(
    *,
    config: Config,
    rows: list[LeadRow],
    plan: Plan,
    actor: Any,
    trigger: str,
    team: Team | None,
    now: datetime,
    keep: Callable[[LeadDecision], bool] = lambda decision: True,
    table: str | None = None,
) -> AssignmentResult:
    """Decide the member phase of ``plan`` and write its decisions (those ``keep`` accepts), as a run.
    ``table``: the table of the leads (PostgreSQL: an import's staging table, whose rows are scored by
    the import itself; default: the leads')."""
    run = AssignmentRun.objects.create(
        started_at=now,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        trigger=trigger,
        team=team,
        rules={
            "teams": {str(t.id): t.rule for t in config.teams},
            "members": {str(m.id): m.rule for m in config.all_members()},
        },
    )

    written = write_run(config=config, rows=rows, plan=plan, keep=keep, run=run, now=now, table=table)
    decisions = [d for d in plan.decisions if d is not None and keep(d)]
    # A lead changed between the read and the write is left out (manual assignment wins).
    if len(written) < sum(1 for d in decisions if d.writes):
        decisions = [d for d in decisions if not d.writes or d.lead_id in written]
    result = summarize(config, decisions, dry_run=False)
    result.run_id = run.pk
    run.finished_at = timezone.now()
    run.considered, run.teamed, run.assigned, run.converted = (
        result.considered,
        result.teamed,
        result.assigned,
        result.converted,
    )
    run.counts = {
        "teams": {str(k): v for k, v in result.team_counts.items()},
        "members": {str(k): v for k, v in result.member_counts.items()},
    }
    run.save(update_fields=["finished_at", "considered", "teamed", "assigned", "converted", "counts"])
    if written and table is None:  # re-scored only when an active rule reads a field it wrote
        leads_changed(
            lead_ids=AssignmentDecision.objects.filter(run=run).values("lead_id"),
            fields=ASSIGNED_FIELDS,
            outcome_may_change=False,
        )
    return result


# --- the service -------------------------------------------------------------------------------------
def _check_actor(actor: Any) -> None:
    if actor is not None and not getattr(actor, "manages_configuration", False):
        raise AssignmentError(
            _("Only sales managers and administrators run the automatic assignment."),
            code=AssignmentError.Code.FORBIDDEN,
        )


@transaction.atomic
def assign_leads(
    *,
    actor: Any,
    lead_ids: Collection[int] | None = None,
    team: Team | None = None,
    dry_run: bool = False,
    trigger: str = AssignmentTrigger.MANUAL,
    staged: StagedLeads | None = None,
) -> AssignmentResult:
    """Assign the open leads without a salesperson (all, or ``lead_ids``) to teams and salespeople.

    With ``team``, only that team is filled: leads without a team that would go to an earlier team by
    sequence are left for it. ``dry_run``: the same decisions, nothing written (``run_id`` None). ``actor``
    None is the installation (worker, import); a person must manage configuration.

    ``staged``: the leads are rows of an import's staging table, not inserted yet (PostgreSQL), so that
    they are inserted once with their team and salesperson (see :class:`StagedLeads`).
    """
    _check_actor(actor)
    now = timezone.now()
    scope = team.pk if team is not None else None
    if staged is not None and staged.config is not None:
        config = staged.config  # read (and the members locked) by the first part of the import
    else:
        if not dry_run:
            lock_members(scope)  # then read the loads: as they are once no other run can change them
        config = load_config(now=now)
        parse_rules(config)
    leads = candidate_leads(lead_ids=lead_ids, team_id=scope)
    if staged is not None and staged.ids is not None:
        leads = leads.filter(pk__range=staged.ids)
    # Not locked: the write re-checks each lead (see writes.py).
    rows = read_leads(leads, config, tables=staged.tables if staged else None)
    if staged is not None:
        if any(t.merge_duplicates for t in config.teams):
            raise ReadsRealTable(Lead._meta.db_table)  # merging needs the stored records
        plan = Plan(config, rows, scope_team_id=scope)
        result = _write(
            config=config, rows=rows, plan=plan, actor=actor, trigger=trigger, team=team, now=now,
            table=staged.tables[Lead._meta.db_table],
        )  # fmt: skip
        staged.config = with_given(config, result.member_counts)
        emit_events(event=WebhookEvent.LEAD_ASSIGNED, label="leads.lead", pks=result.assigned_lead_ids)
        return result
    merges = _duplicates_to_merge(config, rows, scope_team_id=scope)
    if dry_run:
        result = summarize(config, plan_assignment(config, rows, scope_team_id=scope), dry_run=True)
        result.merges = merges
        return result
    if merges:
        merges = _merge_duplicates(merges)
        rows = read_leads(leads, config)  # the leads merged away are inactive now; a survivor takes part
    plan = Plan(config, rows, scope_team_id=scope)
    result = _write(config=config, rows=rows, plan=plan, actor=actor, trigger=trigger, team=team, now=now)
    result.merges = merges
    emit_events(event=WebhookEvent.LEAD_ASSIGNED, label="leads.lead", pks=result.assigned_lead_ids)
    return result


@dataclass
class StagedLeads:
    """Leads an import staged for insertion (PostgreSQL), assigned before they are inserted: ``tables``
    maps the lead and score tables to the staging tables read in their place (same columns), the
    decisions are written to the staging rows and recorded (a run, its decisions) as those of stored
    leads. ``config``: the teams and members with the loads of the parts assigned so far (the staged rows
    are not counted by the load triggers until they are inserted), carried from part to part. ``ids``:
    the range of ids (first, last) of the part.
    Raises :class:`~pheu.core.rows.ReadsRealTable` when a rule (or a team merging duplicates) needs the
    stored records: the import then assigns them once inserted."""

    tables: Mapping[str, str]
    config: Config | None = None
    ids: tuple[int, int] | None = None


def _duplicates_to_merge(
    config: Config, rows: list[LeadRow], *, scope_team_id: int | None
) -> list[tuple[int, int]]:
    """SPEC 6 (team setting, off by default): the waiting leads that go to a team merging duplicates on
    assignment and share their normalised e-mail with an older open record (of any team, or another lead of
    this run) — each with the oldest such record. Nothing is read when no team merges."""
    merging = {t.id for t in config.teams if t.merge_duplicates}
    if not merging or not rows:
        return []
    decisions = plan_assignment(config, rows, scope_team_id=scope_team_id)
    wanted = [d.lead_id for d in decisions if d.writes and d.team_id in merging]
    if not wanted:
        return []
    emails = dict(
        Lead.objects.filter(pk__in=wanted).exclude(email_normalized="").values_list("pk", "email_normalized")
    )
    if not emails:
        return []
    oldest: dict[str, int] = {}
    others = (
        Lead.objects.filter(email_normalized__in=set(emails.values()), active=True, won_status=WonStatus.OPEN)
        .order_by("created_at", "id")
        .values_list("pk", "email_normalized")
    )
    for pk, email in others:
        oldest.setdefault(email, pk)
    return [(pk, oldest[email]) for pk, email in sorted(emails.items()) if oldest.get(email, pk) != pk]


def _merge_duplicates(merges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge each lead with its older record (the merge service picks the survivor by SPEC 6's rule); the
    merges made. A merge the service refuses (records of different customers need a person's confirmation)
    is not made: that lead is assigned as any other."""
    from pheu.leads.services.merge import MergeError, merge_leads

    made = []
    records = Lead.objects.in_bulk({pk for pair in merges for pk in pair})
    survivor_of: dict[int, int] = {}  # a record merged away by an earlier merge of this run → its survivor
    for lead_id, into in merges:
        into = survivor_of.get(into, into)
        lead, target = records.get(lead_id), records.get(into)
        if lead is None or target is None:
            continue
        try:
            merge = merge_leads(actor=None, leads=[target, lead])
        except MergeError:
            continue
        for pk in (lead_id, into):
            if pk != merge.survivor_id:
                survivor_of[pk] = merge.survivor_id
        records[merge.survivor_id] = merge.survivor
        made.append((lead_id, into))
    return made


# --- real time ---------------------------------------------------------------------------------------
def realtime_config(now: datetime) -> Config:
    """The teams and members as a creation assigns from: the config every assignment reads, kept by the
    process between creations while it does not change (one query: the version and the loads)."""
    return config_cache.realtime_config(now)


def _python_row(lead: Lead, config: Config, tags: Iterable[Any]) -> LeadRow:
    """The candidate row of a lead just created, its rule mask evaluated in Python on the instance (SPEC 2:
    evaluation and SQL agree on every record; the rule language's tests hold them equal)."""
    from pheu.leads.rules_schema import lead_facts

    facts = lead_facts(lead, tags=list(tags), pageviews=())
    mask = 0
    for text, bit in config.bits.items():
        domain = config.rules[text]
        if domain is not None and domain.evaluate(facts):
            mask |= 1 << bit
    return LeadRow(
        lead.pk, lead.team_id, lead.user_id, lead.score, lead.type, lead.stage_id, lead.auto_probability, mask
    )


def _oldest_open_record(email_normalized: str, *, exclude: int | None = None) -> Lead | None:
    """The oldest open, active record of the normalised e-mail (the survivor a merge on assignment picks)."""
    return (
        Lead.objects.filter(email_normalized=email_normalized, active=True, won_status=WonStatus.OPEN)
        .exclude(pk=exclude)
        .order_by("created_at", "id")
        .first()
    )


def _merged_into_duplicate(*, lead: Lead, decision: LeadDecision, config: Config) -> bool:
    """When the team the new ``lead`` goes to says so (``merge_duplicates_on_assignment``, SPEC 6), merge it
    with the oldest open record of the same normalised e-mail instead of assigning it separately (the
    merge picks the survivor). Whether it was merged. One query when the team says so and the lead has an
    e-mail; none otherwise. A merge the merge service refuses (records of different customers need a
    person's confirmation) is not made: the lead is then assigned as any other."""
    team = config.team(decision.team_id) if decision.team_id is not None else None
    if team is None or not team.merge_duplicates or not lead.email_normalized:
        return False
    existing = _oldest_open_record(lead.email_normalized, exclude=lead.pk)
    if existing is None:
        return False
    from pheu.leads.services.merge import MergeError, merge_leads

    try:
        merge_leads(actor=None, leads=[existing, lead])
    except MergeError:
        return False
    return True


def assign_new_lead(*, lead: Lead, tags: Iterable[Any] | None = None, config: Config | None = None) -> None:
    """Assign one lead just created (SPEC: "in the same transaction as its creation"), when it has no
    salesperson: the same rules and choice as :func:`assign_leads`, with its decision recorded (no run).

    ``tags``: the tags it was created with, when it has no page views yet: its rule mask is then evaluated
    in Python on the instance; otherwise (None) the database computes it (one query). ``config``: the teams
    and members as :func:`realtime_config` read them in this transaction (read here otherwise).

    Queries, when a member is chosen: the lock of the team's members, the lead's update (which counts the
    member's capacity again), the decision. When the member filled up meanwhile (a concurrent creation), the
    next member is tried under the same locks. When its team merges duplicates on assignment and an open
    record has its e-mail, the lead is merged with it instead (:func:`_merged_into_duplicate`).
    """
    if lead.user_id is not None or not lead.active or lead.won_status != WonStatus.OPEN:
        return
    now = timezone.now()
    config = config or realtime_config(now)
    parse_rules(config, cached=True)
    if tags is not None:
        row = _python_row(lead, config, tags)
    else:
        rows = read_leads(Lead.objects.filter(pk=lead.pk), config)
        if not rows:
            return
        row = rows[0]
    locked: int | None = None
    for _attempt in range(1 + config.member_count()):
        decision = plan_assignment(config, [row])[0]
        if not decision.writes:
            return
        if _attempt == 0 and _merged_into_duplicate(lead=lead, decision=decision, config=config):
            return
        if decision.member_id is not None and locked != decision.team_id:
            lock_team_members(decision.team_id)  # type: ignore[arg-type]  # a member's decision has a team
            locked = decision.team_id
        if _claim_for_member(lead=lead, decision=decision, row=row, config=config, now=now):
            break
        # The member filled up meanwhile (another lead created at the same time): count them as full.
        assert decision.member_id is not None
        config = without_member(config, decision.member_id)
    else:  # pragma: no cover — every member was tried
        return
    decision_row(decision, None, now).save(force_insert=True)
    # No re-scoring here: the creation scored the lead just before (its score is what chose the team), and
    # the query budget of a creation is tight (SPEC 13); batch runs re-score what they write.


@dataclass(frozen=True)
class NewLeadAssignment:
    """What :func:`assign_unsaved_lead` decided for a lead about to be inserted: the decision it applied to
    the instance (stored with the lead: :func:`new_assignment_row`; None when no team or
    member takes it), or ``after_insert``: the lead is assigned once inserted (:func:`assign_new_lead`), as
    its team merges duplicates on assignment and merging needs the stored record."""

    decision: LeadDecision | None = None
    at: datetime | None = None  # the decision's time: the lead's ``assigned_at`` when it got a salesperson
    after_insert: bool = False


def _claim_for_member(
    *, lead: Lead, decision: LeadDecision, row: LeadRow, config: Config, now: datetime
) -> bool:
    """Give the stored ``lead`` its decision's team and member, unless that takes the member over capacity
    — counted by the ``UPDATE`` itself, after :func:`~pheu.assignment.writes.lock_team_members`, so that it
    sees every lead a concurrent creation gave them; whether it was given."""
    changes = {**lead_changes(decision, row, config, now), "updated_at": now}
    if not update_if_room(lead.pk, changes, decision=decision, now=now):
        return False
    for name, value in changes.items():
        setattr(lead, name, value)
    return True


def assign_unsaved_lead(*, lead: Lead, tags: Iterable[Any]) -> NewLeadAssignment:
    """Decide the team and salesperson of a lead about to be created, with no salesperson and no page
    views waiting for it (its rule mask is then evaluated in Python on the instance, exactly), and give them
    to the instance, so that the lead is inserted once with its final values (SPEC 5: real time, in the
    transaction of its creation) instead of inserted and then updated. When its team merges duplicates on
    assignment and an open record has its e-mail, ``after_insert``: the merge needs the stored lead.

    Same rules, choice and capacity count as :func:`assign_new_lead`: the chosen team's members are locked
    (:func:`~pheu.assignment.writes.lock_team_members`) and the member's load counted again under the
    lock; a member who filled up meanwhile is counted full and the next one tried. Queries: the teams and
    members, and when a member is chosen the lock and the count."""
    if lead.user_id is not None or not lead.active or lead.won_status != WonStatus.OPEN:
        return NewLeadAssignment()
    now = timezone.now()
    config = realtime_config(now)
    parse_rules(config, cached=True)
    row = _python_row(lead, config, tags)
    locked: int | None = None
    for attempt in range(1 + config.member_count()):
        decision = plan_assignment(config, [row])[0]
        if not decision.writes:
            return NewLeadAssignment()
        team = config.team(decision.team_id)  # type: ignore[arg-type]  # a decision that writes has a team
        merging = attempt == 0 and team is not None and team.merge_duplicates and lead.email_normalized
        if merging and _oldest_open_record(lead.email_normalized) is not None:  # merged once inserted
            return NewLeadAssignment(after_insert=True)
        if decision.member_id is not None:
            if locked != decision.team_id:
                lock_team_members(decision.team_id)  # type: ignore[arg-type]
                locked = decision.team_id
            if not has_room(decision, now):  # filled by a concurrent creation: count them as full
                config = without_member(config, decision.member_id)
                continue
        for name, value in lead_changes(decision, row, config, now).items():  # as _claim_for_member writes
            setattr(lead, name, value)
        return NewLeadAssignment(decision=decision, at=now)
    return NewLeadAssignment()  # pragma: no cover — every member was tried


def new_assignment_row(assignment: NewLeadAssignment) -> AssignmentDecision | None:
    """The stored decision :func:`assign_unsaved_lead` applied, to insert with the lead (its ``lead_id`` is
    set by the insert: :func:`pheu.core.rows.insert_with`); None when it decided nothing."""
    if assignment.decision is None:
        return None
    return decision_row(assignment.decision, None, assignment.at or timezone.now())


# --- availability ------------------------------------------------------------------------------------
def untouched_leads_of(members: list[MemberFacts]) -> QuerySet[Lead]:
    """The open leads the service gave to ``members`` (their newest assignment is the service's, same
    time) that nobody worked on since: no history entry written by a person after the assignment."""
    if not members:
        return Lead.objects.none()
    pairs = Q()
    for member in members:
        pairs |= Q(team_id=member.team_id, user_id=member.user_id)
    automatic = AssignmentDecision.objects.filter(
        lead=OuterRef("pk"), user_id=OuterRef("user_id"), created_at=OuterRef("assigned_at")
    )
    touched = HistoryEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=OuterRef("pk"),
        author__isnull=False,
        created_at__gt=OuterRef("assigned_at"),
    )
    return (
        Lead.objects.filter(active=True, won_status=WonStatus.OPEN)
        .filter(pairs)
        .filter(Exists(automatic))
        .exclude(Exists(touched))
        .order_by("id")
    )


@transaction.atomic
def redistribute_leads(
    *,
    actor: Any,
    team: Team | None = None,
    member: TeamMember | None = None,
    dry_run: bool = False,
    trigger: str = AssignmentTrigger.REDISTRIBUTE,
) -> AssignmentResult:
    """Give the untouched leads of away members (all, of ``team``, or ``member``) to their available
    teammates, by the same rules as :func:`assign_leads`, each move explained. A lead no teammate can take
    stays with its salesperson."""
    _check_actor(actor)
    now = timezone.now()
    scope = team.pk if team is not None else (member.team_id if member is not None else None)
    if not dry_run:
        lock_members(scope)
    config = load_config(now=now)
    parse_rules(config)
    away = [
        m
        for m in config.all_members()
        if m.away and (scope is None or m.team_id == scope) and (member is None or m.id == member.pk)
    ]
    if member is not None and not away:
        raise AssignmentError(
            _("%(member)s is not away today.") % {"member": member.user},
            code=AssignmentError.Code.INVALID,
            field_errors={"member": [_("%(member)s is not away today.") % {"member": member.user}]},
        )
    leads = untouched_leads_of(away)
    original = read_leads(leads if dry_run else _locked(leads), config)
    previous = {row.id: row.user_id for row in original if row.user_id is not None}
    rows = [
        LeadRow(r.id, r.team_id, None, r.score, r.type, r.stage_id, r.auto_probability, r.mask)
        for r in original
    ]

    def moves(decision: LeadDecision) -> bool:
        return decision.user_id is not None  # the others stay where they are

    if dry_run:
        decisions = plan_assignment(config, rows, previous_users=previous)
        return summarize(config, [d for d in decisions if moves(d)], dry_run=True)
    plan = Plan(config, rows, previous_users=previous)
    result = _write(
        config=config, rows=original, plan=plan, actor=actor, trigger=trigger, team=team, now=now, keep=moves
    )
    emit_events(event=WebhookEvent.LEAD_ASSIGNED, label="leads.lead", pks=result.assigned_lead_ids)
    return result


# --- simulation of a rule not yet saved --------------------------------------------------------------
@dataclass(frozen=True)
class Simulation:
    """What saving an edited team or member would change in the next run: the leads waiting for assignment
    that would go elsewhere, grouped by where they would have gone and where they would go."""

    waiting: int
    moved: int
    moves: tuple[Move, ...]
    before: AssignmentResult
    after: AssignmentResult


def _edited_values(values: Mapping[str, Any], *, team: bool) -> dict[str, Any]:
    """The edited values as the planner takes them; every problem is a field error."""
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if "assignment_domain" in values:
        try:
            changes["rule"] = clean_domain(values["assignment_domain"], "lead").text
        except DomainError as exc:
            errors["assignment_domain"] = exc.messages
    numbers = (
        {"min_score": _("The minimum score is a whole number.")}
        if team
        else {
            "capacity": _("The capacity is a whole number of leads, 0 or more."),
        }
    )
    for name, message in numbers.items():
        if name in values:
            value = values[name]
            try:
                number = int(str(value).strip())
            except (TypeError, ValueError):
                errors[name] = [message]
                continue
            if name == "capacity" and number < 0:
                errors[name] = [message]
            changes[name] = number
    if not team and "weight" in values:
        try:
            weight = Decimal(str(values["weight"]).strip())
            if not weight.is_finite() or weight < 0:
                raise InvalidOperation
            changes["weight"] = weight
        except (InvalidOperation, ValueError):
            errors["weight"] = [_("The weight is a number, 0 or more.")]
    if not team and "optout" in values:
        changes["optout"] = bool(values["optout"])
    if errors:
        raise AssignmentError(code=AssignmentError.Code.INVALID, field_errors=errors)
    return changes


def simulate_rule_change(
    *, actor: Any, team: Team | None = None, member: TeamMember | None = None, values: Mapping[str, Any]
) -> Simulation:
    """What the next run would do differently if ``team`` (or ``member``) had ``values`` — its
    ``assignment_domain``, ``min_score`` (team), ``capacity``, ``weight``, ``optout`` (member) — as edited
    in a form and not saved. Reads only; bad values are field errors."""
    _check_actor(actor)
    if (team is None) == (member is None):
        raise ValueError("simulate_rule_change takes a team or a member")
    changes = _edited_values(values, team=team is not None)
    now = timezone.now()
    config = load_config(now=now)
    parse_rules(config, extra=[changes["rule"]] if changes.get("rule") else [])
    if team is not None:
        if config.team(team.pk) is None:
            raise AssignmentError(
                code=AssignmentError.Code.INVALID,
                field_errors={
                    "team": [_("This team takes no part in automatic assignment (inactive or opted out).")]
                },
            )
        edited = config.with_team(team.pk, **changes)
    else:
        assert member is not None
        if config.member(member.pk) is None:
            raise AssignmentError(
                code=AssignmentError.Code.INVALID,
                field_errors={"member": [_("This member takes no part in automatic assignment.")]},
            )
        edited = config.with_member(member.pk, **changes)
    rows = read_leads(candidate_leads(), config)
    before = plan_assignment(config, rows)
    after = plan_assignment(edited, rows)
    moves = moves_between(before, after)
    return Simulation(
        waiting=len(rows),
        moved=sum(m.count for m in moves),
        moves=moves,
        before=summarize(config, before, dry_run=True),
        after=summarize(edited, after, dry_run=True),
    )


# --- schedule ----------------------------------------------------------------------------------------
def run_scheduled_assignments(*, now: datetime | None = None) -> list[AssignmentResult]:
    """Run the assignment of every team whose period (``assignment_every_hours``) has passed since its
    last scheduled run, by sequence. Each team is claimed with one conditional UPDATE, so that several
    workers never run a team twice for one period. The claim and the run commit together: a team whose run
    fails is logged and tried again at the next round, and the teams after it still run."""
    now = now or timezone.now()
    results = []
    teams = Team.objects.filter(active=True, assignment_optout=False, assignment_every_hours__isnull=False)
    for team in teams.order_by("sequence", "id"):
        assert team.assignment_every_hours is not None  # the teams filtered above
        due = now - timedelta(hours=team.assignment_every_hours)
        try:
            with transaction.atomic():
                claimed = (
                    Team.objects.filter(pk=team.pk)
                    .filter(
                        Q(last_scheduled_assignment_at__isnull=True)
                        | Q(last_scheduled_assignment_at__lte=due)
                    )
                    .update(last_scheduled_assignment_at=now)
                )
                if claimed:
                    results.append(assign_leads(actor=None, team=team, trigger=AssignmentTrigger.SCHEDULE))
        except Exception:
            logger.exception("scheduled assignment of team %s failed", team.pk)
    return results


# --- reads -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LeadAssignment:
    """A lead's newest automatic assignment and whether it still holds (``manual``: changed by hand since)."""

    decision: AssignmentDecision | None
    current: bool
    manual: bool


def _holds(decision: AssignmentDecision, lead: Lead) -> bool:
    """Whether ``decision`` explains ``lead``'s salesperson (or, giving none, its team) as it is now. A
    salesperson's decision is the one stamped with the lead's ``assigned_at``: a run writes both with one
    time, and a change by hand, or a later run, stamps the lead anew."""
    if decision.user_id is not None:
        return lead.user_id == decision.user_id and lead.assigned_at == decision.created_at
    return lead.user_id is None and lead.team_id == decision.team_id


# --- why a lead waits --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Waiting:
    reason: str  # a WaitingReason
    label: str


def why_waiting(*, lead: Lead, now: datetime | None = None) -> Waiting | None:
    """Why ``lead`` has no salesperson, as the next run would decide it now (reads only: the teams and
    members, their rules' look-ups, the lead). None when it does not wait: it has a salesperson, or is
    closed or inactive."""
    if lead.user_id is not None or not lead.active or lead.won_status != WonStatus.OPEN:
        return None
    config = load_config(now=now or timezone.now())
    parse_rules(config)
    rows = read_leads(Lead.objects.filter(pk=lead.pk), config)
    if not rows:
        return None
    reason = waiting_reason(config, plan_assignment(config, rows)[0])
    return Waiting(reason, WaitingReason.labels()[reason])


def lead_assignment(*, lead: Lead) -> LeadAssignment:
    """The decision of the service that explains ``lead`` as it is now; else its newest decision, which
    no longer holds (one query). A lead merged into this one brings its decisions along: the newest of
    them may be of that lead's salesperson, not of this one's."""
    decisions = list(
        AssignmentDecision.objects.filter(lead=lead)
        .select_related("team", "user", "run", "previous_user")
        .order_by("-id")
    )
    if not decisions:
        return LeadAssignment(None, False, lead.user_id is not None)
    holding = next((d for d in decisions if _holds(d, lead)), None)
    if holding is not None:
        return LeadAssignment(holding, True, False)
    return LeadAssignment(decisions[0], False, True)


@dataclass(frozen=True)
class MemberLoad:
    member_id: int
    team_id: int
    team_name: str
    user_label: str
    capacity: int
    recent: int
    optout: bool
    away: bool
    active: bool

    @classmethod
    def of(cls, member: TeamMember, today: date) -> MemberLoad:
        """The load of ``member`` read with its team and user and annotated with ``recent``
        (:func:`~pheu.assignment.facts.recent_count`)."""
        return cls(
            member.pk,
            member.team_id,
            member.team.name,
            member.user.display_name,
            member.capacity,
            member.recent,  # type: ignore[attr-defined]  # the annotation
            member.optout,
            member.is_away(today),
            member.active and member.user.is_active,
        )

    @property
    def free(self) -> int:
        return max(self.capacity - self.recent, 0)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.recent / self.capacity)) if self.capacity else 100


def assignment_statistics(*, now: datetime | None = None, team: Team | None = None) -> list[MemberLoad]:
    """Per member: leads given in the team in the last 30 days against capacity (one query)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    members = TeamMember.objects.select_related("team", "user").annotate(recent=recent_count(now))
    if team is not None:
        members = members.filter(team=team)
    return [
        MemberLoad.of(m, today) for m in members.order_by("team__sequence", "team__name", "user__username")
    ]
