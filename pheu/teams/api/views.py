"""API of sales teams and team members: read by every user, written by managers and administrators."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from pheu.core.api.views import ConfigViewSet, updated_record
from pheu.teams.api.serializers import TeamMemberSerializer, TeamSerializer
from pheu.teams.models import Team, TeamMember
from pheu.teams.services import create_team, create_team_member, update_team, update_team_member


class TeamViewSet(ConfigViewSet):
    """Sales teams: leader, assignment rule and minimum score, `use_leads` (empty: the installation's)."""

    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    filterset_fields = ["active", "leader"]
    ordering_fields = ["id", "name", "sequence"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = create_team(actor=self.request.user, values=dict(serializer.validated_data))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        values: dict[str, Any] = dict(serializer.validated_data)
        serializer.instance = update_team(
            actor=self.request.user, team=updated_record(serializer, Team), values=values
        )


class TeamMemberViewSet(ConfigViewSet):
    """Memberships: a user in a team with a capacity (leads per 30 days), weight and rule."""

    queryset = TeamMember.objects.select_related("team", "user")
    serializer_class = TeamMemberSerializer
    filterset_fields = ["team", "user", "active", "optout"]
    ordering_fields = ["id", "team", "capacity"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        values: dict[str, Any] = dict(serializer.validated_data)
        serializer.instance = create_team_member(actor=self.request.user, values=values)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        values: dict[str, Any] = dict(serializer.validated_data)
        serializer.instance = update_team_member(
            actor=self.request.user, member=updated_record(serializer, TeamMember), values=values
        )
