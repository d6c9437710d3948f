"""API representations of sales teams and team members (writes go through ``pheu.teams.services``)."""

from __future__ import annotations

from rest_framework import serializers

from pheu.accounts.models import User
from pheu.core.api.serializers import COUNT, INT_MAX
from pheu.teams.models import Team, TeamMember


class TeamSerializer(serializers.ModelSerializer):
    leader = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Team
        fields = [
            "id",
            "name",
            "sequence",
            "active",
            "leader",
            "use_leads",
            "assignment_domain",
            "min_score",
            "assignment_optout",
            "email_alias",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"sequence": COUNT, "min_score": {"min_value": -INT_MAX, "max_value": INT_MAX}}


class TeamMemberSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())

    class Meta:
        model = TeamMember
        fields = ["id", "team", "user", "assignment_domain", "capacity", "weight", "optout", "active"]
        read_only_fields = ["id"]
        extra_kwargs = {"capacity": COUNT}
        # The service checks that a user is in a team once, with a message naming both.
        validators: list = []
