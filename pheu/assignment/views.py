"""Pages of assignment: statistics and runs, a team's and a member's assignment settings (with the
simulation of an edited rule), the buttons that run it, and the panel on a lead's page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pheu.assignment.forms import MemberAssignmentForm, TeamAssignmentForm
from pheu.assignment.models import AssignmentRun, AssignmentTrigger
from pheu.assignment.services import (
    assign_leads,
    assignment_statistics,
    lead_assignment,
    redistribute_leads,
    simulate_rule_change,
    why_waiting,
)
from pheu.core.exceptions import PheuError
from pheu.core.views import manager_required, next_url
from pheu.teams.models import Team, TeamMember
from pheu.teams.services import update_team, update_team_member


@manager_required
def overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "assignment/overview.html",
        {
            "loads": assignment_statistics(),
            "teams": Team.objects.order_by("sequence", "name"),
            "runs": AssignmentRun.objects.select_related("team", "actor")[:20],
        },
    )


@manager_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """The "Assign" buttons (overview, team page, lead list): run, dry run or redistribute."""
    team = get_object_or_404(Team, pk=request.POST["team"]) if request.POST.get("team") else None
    dry_run = request.POST.get("dry_run") == "1"
    try:
        if request.POST.get("redistribute") == "1":
            result = redistribute_leads(actor=request.user, team=team, dry_run=dry_run)
        else:
            result = assign_leads(
                actor=request.user, team=team, dry_run=dry_run, trigger=AssignmentTrigger.MANUAL
            )
    except PheuError as exc:
        messages.error(request, str(exc))
        return redirect(next_url(request, "assignment:overview"))
    summary = _("%(considered)s leads considered: %(teamed)s given a team, %(assigned)s a salesperson.") % {
        "considered": result.considered,
        "teamed": result.teamed,
        "assigned": result.assigned,
    }
    if dry_run:
        return render(
            request, "assignment/dry_run.html", {"result": result, "summary": summary, "team": team}
        )
    messages.success(request, summary)
    return redirect(next_url(request, "assignment:overview"))


def _simulate(request: HttpRequest, **target: Any) -> HttpResponse:
    values: dict[str, str | bool] = {
        k: request.POST[k]
        for k in ("assignment_domain", "min_score", "capacity", "weight")
        if k in request.POST
    }
    if "capacity" in values:
        values["optout"] = request.POST.get("optout") == "on"
    try:
        simulation = simulate_rule_change(actor=request.user, values=values, **target)
    except PheuError as exc:
        return render(
            request, "assignment/_simulation.html", {"errors": exc.field_errors or {"": [str(exc)]}}
        )
    return render(request, "assignment/_simulation.html", {"simulation": simulation})


@manager_required
def team_settings(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk)
    if request.method == "POST" and request.POST.get("simulate"):
        return _simulate(request, team=team)
    form = TeamAssignmentForm(request.POST or None, instance=Team.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            update_team(actor=request.user, team=team, values=form.cleaned_data)
        except PheuError as exc:
            for name, errors in exc.field_errors.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("assignment:team", pk=pk)
    return render(
        request,
        "assignment/team.html",
        {"team": team, "form": form, "loads": assignment_statistics(team=team)},
    )


@manager_required
def member_settings(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(TeamMember.objects.select_related("team", "user"), pk=pk)
    if request.method == "POST" and request.POST.get("simulate"):
        return _simulate(request, member=member)
    form = MemberAssignmentForm(request.POST or None, instance=TeamMember.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            update_team_member(actor=request.user, member=member, values=form.cleaned_data)
        except PheuError as exc:
            for name, errors in exc.field_errors.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("assignment:team", pk=member.team_id)
    return render(request, "assignment/member.html", {"member": member, "form": form})


def lead_panel(request: HttpRequest, lead: Any) -> dict[str, Any] | None:
    """The lead page's "Assignment" panel: the newest decision and why; for a lead without a salesperson,
    why it waits."""
    found = lead_assignment(lead=lead)
    waiting = why_waiting(lead=lead)
    if found.decision is None and waiting is None:
        return None
    return {"decision": found.decision, "current": found.current, "manual": found.manual, "waiting": waiting}
