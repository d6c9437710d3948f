"""API representations of sales teams and team members (writes go through ``pheu.teams.services``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pheu.accounts.models import User
from pheu.core.api.serializers import COUNT, INT_MAX, DomainInputField
from pheu.rules import stored_domain_json
from pheu.teams.models import Team, TeamMember
from pheu.teams.services import ASSIGNMENT_SCHEMA

_DOMAIN_HELP = (
    "The leads this {} takes, as a rule-language domain: the text as typed (JSON or a Python literal) or a "
    "JSON array, stored as typed (an array as its canonical text). Empty: all leads."
)


class AssignmentDomainMixin(serializers.Serializer):
    # `assignment_domain` in (text or JSON array) and out (text), with its canonical list read-only. (A
    # comment, not a docstring: drf-spectacular would publish it as the description of every serializer.)

    assignment_domain_json = serializers.SerializerMethodField()

    @extend_schema_field(
        {
            "type": "array",
            "items": {},
            "nullable": True,
            "readOnly": True,
            "description": "The assignment rule in canonical form ([] for all leads); null when the stored "
            "text no longer reads (a record it names was renamed or deleted).",
        }
    )
    def get_assignment_domain_json(self, obj: Team | TeamMember) -> list[Any] | None:
        # Parsed once per distinct text in a response (a list of members often repeats a rule).
        cache: dict[str, list[Any] | None] = self.context.setdefault("_assignment_domain_json", {})
        text = obj.assignment_domain
        if text not in cache:
            cache[text] = stored_domain_json(text, ASSIGNMENT_SCHEMA)
        return cache[text]


class TeamSerializer(AssignmentDomainMixin, serializers.ModelSerializer):
    leader = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True, required=False)
    assignment_domain = DomainInputField(required=False, help_text=_DOMAIN_HELP.format("team"))

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
            "assignment_domain_json",
            "min_score",
            "assignment_optout",
            "assignment_every_hours",
            "last_scheduled_assignment_at",
            "merge_duplicates_on_assignment",
            "email_alias",
            "form_key",
            "created_at",
        ]
        read_only_fields = ["id", "form_key", "created_at", "last_scheduled_assignment_at"]
        extra_kwargs = {
            "sequence": COUNT,
            "assignment_every_hours": {"min_value": 1, "max_value": INT_MAX},
            "min_score": {"min_value": -INT_MAX, "max_value": INT_MAX},
        }


class TeamMemberSerializer(AssignmentDomainMixin, serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    assignment_domain = DomainInputField(required=False, help_text=_DOMAIN_HELP.format("member"))

    class Meta:
        model = TeamMember
        fields = [
            "id",
            "team",
            "user",
            "assignment_domain",
            "assignment_domain_json",
            "capacity",
            "weight",
            "optout",
            "active",
            "away_from",
            "away_until",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {"capacity": COUNT}
        # The service checks that a user is in a team once, with a message naming both.
        validators: list = []
