"""API representations of scoring: rules, page views, the explanation of a lead's score and predicted
probability, and the predictive model's state. Writes go through ``pheu.scoring.services``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pheu.core.api.serializers import COUNT, INT_MAX, DomainInputField
from pheu.leads.models import Lead
from pheu.rules import DomainError, clean_domain, stored_domain_json
from pheu.scoring.models import PageView, RebuildStatus, ScoringRule
from pheu.scoring.services import MAX_EMAIL, MAX_POINTS, MAX_URL, MAX_VISITOR_ID


class RescoreOutcomeSerializer(serializers.Serializer):
    background = serializers.BooleanField(
        help_text="True when the open leads are re-scored in the background (follow `run`)."
    )
    changed = serializers.IntegerField(
        required=False, allow_null=True, help_text="Scores changed, when re-scored at once."
    )
    run = serializers.IntegerField(required=False, allow_null=True, help_text="The background re-scoring.")
    status = serializers.CharField(required=False)
    percent = serializers.IntegerField(required=False)


class ScoringRuleSerializer(serializers.ModelSerializer):
    domain = DomainInputField(
        required=False,
        help_text="The leads that get the points, as a rule-language domain: text as typed (JSON or a Python "
        "literal) or a JSON array. Empty: all leads.",
    )
    domain_json = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = ScoringRule
        fields = [
            "id",
            "name",
            "domain",
            "domain_json",
            "explanation",
            "points",
            "window_days",
            "active",
            "sequence",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {
            "points": {"min_value": -MAX_POINTS, "max_value": MAX_POINTS},
            "window_days": {"min_value": 1, "max_value": INT_MAX},
            "sequence": COUNT,
        }

    @extend_schema_field(
        {
            "type": "array",
            "items": {},
            "nullable": True,
            "readOnly": True,
            "description": "The rule in canonical form ([] for all leads); null when it no longer reads.",
        }
    )
    def get_domain_json(self, obj: ScoringRule) -> list[Any] | None:
        return stored_domain_json(obj.domain, "lead")

    @extend_schema_field(
        {
            "type": "string",
            "readOnly": True,
            "description": "The rule in words, in the request's language (or why it no longer reads).",
        }
    )
    def get_explanation(self, obj: ScoringRule) -> str:
        try:
            return clean_domain(obj.domain, "lead").domain.explain()
        except DomainError as exc:
            return "; ".join(exc.messages)


class ScoringRuleSavedSerializer(ScoringRuleSerializer):
    rescore = RescoreOutcomeSerializer(read_only=True, help_text="What the change did to the open leads.")

    class Meta(ScoringRuleSerializer.Meta):
        fields = [*ScoringRuleSerializer.Meta.fields, "rescore"]


class RuleDeletedSerializer(serializers.Serializer):
    rescore = RescoreOutcomeSerializer(read_only=True)


class PageViewSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.CharField(max_length=MAX_URL, help_text="The address of the page seen.")
    lead = serializers.PrimaryKeyRelatedField(
        queryset=Lead.objects.none(),
        required=False,
        allow_null=True,
        help_text="The lead who saw it (one the user may see).",
    )
    email = serializers.EmailField(
        max_length=MAX_EMAIL,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Or the visitor's e-mail: the view goes to the most recent record with it, or waits "
        "for one.",
    )
    visitor_id = serializers.CharField(
        max_length=MAX_VISITOR_ID,
        required=False,
        allow_blank=True,
        help_text="Or the tracking cookie's visitor id (`pheu_vid`): linked to the lead when the visitor "
        "submits the web-to-lead form.",
    )
    visitor = serializers.CharField(
        max_length=MAX_VISITOR_ID,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Another name of `visitor_id`.",
    )
    viewed_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: now.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            lead = self.fields["lead"]
            assert isinstance(lead, serializers.PrimaryKeyRelatedField)  # declared above
            lead.queryset = Lead.objects.visible_to(request.user)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("visitor") and not attrs.get("visitor_id"):
            attrs["visitor_id"] = attrs["visitor"]
        return attrs

    def to_representation(self, instance: PageView) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "url": instance.url,
            "lead": instance.lead_id,
            "visitor_id": instance.visitor_id,
            "viewed_at": serializers.DateTimeField().to_representation(instance.created_at),
        }


class MatchedRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    points = serializers.IntegerField()
    explanation = serializers.CharField(help_text="The rule in words.")


class FactorSerializer(serializers.Serializer):
    variable = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute: DRF moves it to _declared_fields
    value = serializers.CharField()
    weight = serializers.FloatField(help_text="Log-likelihood ratio: above 0 raised the probability.")


class ScoreExplanationSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="The points of the active rules the lead matches now.")
    stored = serializers.IntegerField(
        help_text="The score on the record (equal to total unless it is closed: it keeps its score)."
    )
    matched = MatchedRuleSerializer(many=True)


class PredictionSerializer(serializers.Serializer):
    probability = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text="Null without enough won/lost history."
    )
    raised = FactorSerializer(many=True)
    lowered = FactorSerializer(many=True)
    samples = serializers.IntegerField(help_text="Closed records the prediction learnt from.")


class LeadExplanationSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    score = ScoreExplanationSerializer()
    prediction = PredictionSerializer()


class RebuildStateSerializer(serializers.Serializer):
    rebuild_status = serializers.ChoiceField(
        choices=RebuildStatus.choices,
        help_text="The last rebuild asked for in the background: queued, running, failed, or idle (done).",
    )
    rebuild_asked_at = serializers.DateTimeField(allow_null=True)
    rebuild_error = serializers.CharField(allow_blank=True, help_text="Why the last rebuild failed.")


class ModelStateSerializer(RebuildStateSerializer):
    samples = serializers.IntegerField(help_text="Closed records the model learnt from at its last rebuild.")
    rebuilt_at = serializers.DateTimeField(allow_null=True)
    auc = serializers.FloatField(
        allow_null=True,
        help_text="Area under the ROC curve on the most recently closed 20% (0.5: a coin toss; 1: perfect).",
    )
    auc_samples = serializers.IntegerField()
    predicted_at = serializers.DateTimeField(allow_null=True)
    predictive_fields = serializers.ListField(child=serializers.CharField())
    probability_follows_prediction = serializers.BooleanField()


class PredictedSerializer(serializers.Serializer):
    checked = serializers.IntegerField()
    changed = serializers.IntegerField()


class RebuildQueuedSerializer(RebuildStateSerializer):
    background = serializers.BooleanField()
    closed = serializers.IntegerField(help_text="Closed records the model will learn from.")


class RebuildSerializer(serializers.Serializer):
    samples = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    auc = serializers.FloatField(allow_null=True)
    auc_samples = serializers.IntegerField()
    predicted = PredictedSerializer()
