"""API representations of assignment runs, decisions, dry runs and simulations."""

from __future__ import annotations

from rest_framework import serializers

from pheu.assignment.models import AssignmentDecision, AssignmentRun
from pheu.teams.models import Team, TeamMember


class AssignmentRunRequestSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=False, help_text="Say what a run would do; write nothing.")
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, help_text="Fill only this team."
    )
    redistribute = serializers.BooleanField(
        default=False, help_text="Give the untouched leads of away members to their teammates instead."
    )
    member = serializers.PrimaryKeyRelatedField(
        queryset=TeamMember.objects.all(),
        required=False,
        allow_null=True,
        help_text="With redistribute: only this (away) member's leads.",
    )


class CountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class DecisionResultSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["assigned", "team_only", "no_member", "no_team", "other_team"])
    score = serializers.IntegerField()
    team = serializers.IntegerField(allow_null=True)
    team_name = serializers.CharField()
    team_chosen = serializers.BooleanField()
    team_rule = serializers.CharField()
    min_score = serializers.IntegerField(allow_null=True)
    member = serializers.IntegerField(allow_null=True)
    user = serializers.IntegerField(allow_null=True)
    user_name = serializers.CharField()
    member_rule = serializers.CharField()
    capacity = serializers.IntegerField(allow_null=True)
    capacity_left = serializers.IntegerField(allow_null=True)
    converted = serializers.BooleanField()
    previous_user = serializers.IntegerField(allow_null=True)


class AssignmentMergeSerializer(serializers.Serializer):
    lead = serializers.IntegerField(help_text="The waiting lead.")
    into = serializers.IntegerField(help_text="The older open record of its e-mail, merged with it.")


class AssignmentResultSerializer(serializers.Serializer):
    run = serializers.IntegerField(allow_null=True, help_text="The stored run (null for a dry run).")
    dry_run = serializers.BooleanField()
    considered = serializers.IntegerField()
    teamed = serializers.IntegerField()
    assigned = serializers.IntegerField()
    converted = serializers.IntegerField()
    teams = CountSerializer(many=True)
    members = CountSerializer(many=True)
    assigned_lead_ids = serializers.ListField(child=serializers.IntegerField())
    broken_rules = serializers.ListField(child=serializers.CharField())
    merged = AssignmentMergeSerializer(
        many=True, help_text="Leads merged instead of assigned (teams that merge duplicates on assignment)."
    )
    decisions = DecisionResultSerializer(many=True)


class AssignmentRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssignmentRun
        fields = [
            "id",
            "started_at",
            "finished_at",
            "actor",
            "trigger",
            "team",
            "considered",
            "teamed",
            "assigned",
            "converted",
            "counts",
        ]
        read_only_fields = fields


class AssignmentDecisionSerializer(serializers.ModelSerializer):
    team_name = serializers.CharField(source="team.name", default="", read_only=True)
    user_name = serializers.CharField(source="user.display_name", default="", read_only=True)

    class Meta:
        model = AssignmentDecision
        fields = [
            "id",
            "run",
            "created_at",
            "team",
            "team_name",
            "team_chosen",
            "team_rule",
            "min_score",
            "user",
            "user_name",
            "member",
            "member_rule",
            "score",
            "capacity",
            "capacity_left",
            "converted",
            "previous_user",
        ]
        read_only_fields = fields


class WaitingSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[
            "below_min_score",
            "no_team_rule",
            "no_team",
            "members_full",
            "team_off",
            "next_run",
        ],
        help_text="below_min_score (under every team's minimum score) | no_team_rule (reaches a minimum, "
        "but no such team's rule matches) | "
        "no_team (no team takes automatic assignment) | members_full (every member of its "
        "team full, away or not matching) | team_off (its team skips automatic assignment) | next_run "
        "(the next run would assign it).",
    )
    label = serializers.CharField(help_text="The reason in the reader's language.")  # type: ignore[assignment]  # a field named like a Field attribute: DRF moves it to _declared_fields


class LeadAssignmentSerializer(serializers.Serializer):
    current = serializers.BooleanField(help_text="The lead still has the team and salesperson decided.")
    manual = serializers.BooleanField(help_text="Assigned by hand (since, or only).")
    decision = AssignmentDecisionSerializer(allow_null=True)
    waiting = WaitingSerializer(
        allow_null=True, help_text="Why an open lead without a salesperson waits; null when it does not."
    )


class SimulationRequestSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    member = serializers.PrimaryKeyRelatedField(
        queryset=TeamMember.objects.all(), required=False, allow_null=True
    )
    assignment_domain = serializers.JSONField(required=False, help_text="The rule as edited (text or list).")
    min_score = serializers.JSONField(required=False)
    capacity = serializers.JSONField(required=False)
    weight = serializers.JSONField(required=False)
    optout = serializers.BooleanField(required=False)


class MoveSerializer(serializers.Serializer):
    source = serializers.CharField(help_text='Where they would go now ("" nowhere).')  # type: ignore[assignment]  # a field named like a Field attribute: DRF moves it to _declared_fields
    to = serializers.CharField(help_text='Where they would go after saving ("" nowhere).')
    count = serializers.IntegerField()
    lead_ids = serializers.ListField(child=serializers.IntegerField(), help_text="The first few.")


class SimulationSerializer(serializers.Serializer):
    waiting = serializers.IntegerField()
    moved = serializers.IntegerField()
    moves = MoveSerializer(many=True)
