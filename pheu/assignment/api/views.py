"""API of automatic assignment: runs (``assignment-runs/``), a lead's explanation, rule simulations."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.assignment.api.serializers import (
    AssignmentResultSerializer,
    AssignmentRunRequestSerializer,
    AssignmentRunSerializer,
    LeadAssignmentSerializer,
    SimulationRequestSerializer,
    SimulationSerializer,
)
from pheu.assignment.models import AssignmentRun, AssignmentTrigger
from pheu.assignment.services import (
    AssignmentResult,
    assign_leads,
    lead_assignment,
    redistribute_leads,
    simulate_rule_change,
    why_waiting,
)
from pheu.core.api.views import ManagesConfigurationOrReadOnly
from pheu.leads.models import Lead


def result_data(result: AssignmentResult) -> dict[str, Any]:
    data = result.as_dict()
    data["teams"] = [{"id": t["team"], "name": t["name"], "count": t["count"]} for t in data["teams"]]
    data["members"] = [{"id": m["member"], "name": m["name"], "count": m["count"]} for m in data["members"]]
    data["decisions"] = [d.as_dict() for d in result.decisions]
    return data


class AssignmentRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Runs of the automatic assignment, newest first; POST runs it (or a dry run) now."""

    queryset = AssignmentRun.objects.all()
    serializer_class = AssignmentRunSerializer
    permission_classes = [ManagesConfigurationOrReadOnly]
    filterset_fields = ["trigger", "team"]
    ordering_fields = ["id", "started_at"]

    @extend_schema(
        request=AssignmentRunRequestSerializer,
        responses={200: AssignmentResultSerializer, 201: AssignmentResultSerializer},
        summary="Run the automatic assignment (or a dry run)",
        description="Counts per team and member, the lead ids given a salesperson, and each lead's "
        "decision. A dry run (200) writes nothing; a run (201) is stored. With `redistribute`, the "
        "untouched leads of away members go to their teammates.",
    )
    def create(self, request: Request) -> Response:
        params = AssignmentRunRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if data["redistribute"]:
            result = redistribute_leads(
                actor=request.user, team=data.get("team"), member=data.get("member"), dry_run=data["dry_run"]
            )
        else:
            result = assign_leads(
                actor=request.user,
                team=data.get("team"),
                dry_run=data["dry_run"],
                trigger=AssignmentTrigger.API,
            )
        return Response(result_data(result), status=200 if result.dry_run else 201)


class LeadAssignmentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="leads_assignment",
        tags=["leads"],
        summary="Why the lead has its team and salesperson",
        description="The newest decision of the automatic assignment about the lead (rules, score, "
        "capacity left, run), and whether it still holds or the lead was assigned by hand since; for an "
        "open lead without a salesperson, why it waits (`waiting`: below every matching team's minimum "
        "score, no team's rule matches, every member full…).",
        responses={200: LeadAssignmentSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
        found = lead_assignment(lead=lead)
        body = {
            "current": found.current,
            "manual": found.manual,
            "decision": found.decision,
            "waiting": why_waiting(lead=lead),
        }
        return Response(LeadAssignmentSerializer(body).data)


class AssignmentSimulationView(APIView):
    permission_classes = [ManagesConfigurationOrReadOnly]

    @extend_schema(
        operation_id="assignment_simulate",
        tags=["assignment-runs"],
        summary="What saving an edited team or member rule would change",
        description="Give `team` or `member` and the edited values; answers the waiting leads that would "
        "go elsewhere in the next run, grouped by where they would go now and after saving.",
        request=SimulationRequestSerializer,
        responses={200: SimulationSerializer},
    )
    def post(self, request: Request) -> Response:
        params = SimulationRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        team, member = data.pop("team", None), data.pop("member", None)
        if (team is None) == (member is None):
            return Response({"team": [_("Give a team or a member.")]}, status=400)
        simulation = simulate_rule_change(actor=request.user, team=team, member=member, values=data)
        return Response(SimulationSerializer(simulation).data)
