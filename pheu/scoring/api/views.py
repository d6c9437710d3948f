"""API of scoring: rules (read by everyone, written by managers through the services, with the
re-scoring's outcome), page views, the explanation of a lead's score and probability (404 for a lead the
user may not see), and the predictive model's state and rebuild."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.core.api.views import ConfigViewSet
from pheu.core.models import PheuSettings
from pheu.leads.models import Lead
from pheu.scoring.api.serializers import (
    LeadExplanationSerializer,
    ModelStateSerializer,
    PageViewSerializer,
    RebuildQueuedSerializer,
    RebuildSerializer,
    RuleDeletedSerializer,
    ScoringRuleSavedSerializer,
    ScoringRuleSerializer,
)
from pheu.scoring.models import ModelState, ScoringRule
from pheu.scoring.services import (
    PageViewInput,
    RescoreOutcome,
    delete_scoring_rule,
    explain_score,
    record_pageview,
    save_scoring_rule,
)
from pheu.scoring.services.prediction import chosen_variables, explain_prediction, request_rebuild


@extend_schema_view(
    list=extend_schema(summary="List the scoring rules"),
    retrieve=extend_schema(summary="One scoring rule"),
    create=extend_schema(
        summary="Create a scoring rule",
        description="The open leads are re-scored: at once (`rescore.changed` scores changed) or, on a "
        "large base, in the background (`rescore.run`). A rule that cannot be read is a 400 listing every "
        "problem under `domain`.",
        responses={201: ScoringRuleSavedSerializer},
    ),
    update=extend_schema(summary="Change a scoring rule", responses={200: ScoringRuleSavedSerializer}),
    partial_update=extend_schema(
        summary="Change some fields of a scoring rule (e.g. `active`)",
        responses={200: ScoringRuleSavedSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a scoring rule",
        description="The points it gave are taken back from the open leads.",
        responses={200: RuleDeletedSerializer},
    ),
)
class ScoringRuleViewSet(ConfigViewSet):
    """Scoring rules: a lead's score is the sum of the points of the active rules it matches."""

    queryset = ScoringRule.objects.all()
    serializer_class = ScoringRuleSerializer
    filterset_fields = ["active"]
    ordering_fields = ["id", "name", "sequence", "points"]
    ordering = ["sequence", "id"]

    def _saved(self, rule: ScoringRule, outcome: RescoreOutcome, code: int) -> Response:
        data = dict(ScoringRuleSerializer(rule, context=self.get_serializer_context()).data)
        data["rescore"] = outcome.as_dict()
        return Response(data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule, outcome = save_scoring_rule(
            actor=request.user, rule=None, values=dict(serializer.validated_data)
        )
        return self._saved(rule, outcome, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        rule, outcome = save_scoring_rule(
            actor=request.user, rule=instance, values=dict(serializer.validated_data)
        )
        return self._saved(rule, outcome, status.HTTP_200_OK)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        outcome = delete_scoring_rule(actor=request.user, rule=self.get_object())
        return Response({"rescore": outcome.as_dict()}, status=status.HTTP_200_OK)


class LeadExplainView(APIView):
    @extend_schema(
        operation_id="leads_explain",
        tags=["leads"],
        summary="Why a lead has its score and predicted probability",
        description="The active scoring rules it matches with their points, and its predicted probability "
        "with the factors that raised and lowered it most (null without enough won/lost history). 404 for "
        "a record the user may not see.",
        responses={200: LeadExplanationSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
        body = {"lead": lead.pk, "score": explain_score(lead), "prediction": explain_prediction(lead)}
        return Response(LeadExplanationSerializer(body).data)


class PageViewCreateView(APIView):
    @extend_schema(
        operation_id="pageviews_create",
        tags=["pageviews"],
        summary="Record a page view",
        description="Keyed by `lead`, `email` or `visitor_id` (at least one); the lead is re-scored. A view "
        "of an unknown visitor waits until the visitor submits the web-to-lead form (or a lead with that "
        "e-mail is created). Websites without a token use the public tracking snippet instead.",
        request=PageViewSerializer,
        responses={201: PageViewSerializer},
    )
    def post(self, request: Request) -> Response:
        params = PageViewSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        data = params.validated_data
        lead = data.get("lead")
        view = record_pageview(
            view=PageViewInput(
                url=data["url"],
                lead_id=lead.pk if lead is not None else None,
                email=data.get("email", ""),
                visitor_id=data.get("visitor_id", ""),
                viewed_at=data.get("viewed_at"),
            )
        )
        return Response(PageViewSerializer(view).data, status=status.HTTP_201_CREATED)


class ManagesConfiguration(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and getattr(request.user, "manages_configuration", False))


def _rebuild_state(state: ModelState) -> dict[str, Any]:
    return {
        "rebuild_status": state.rebuild_status,
        "rebuild_asked_at": state.rebuild_asked_at,
        "rebuild_error": state.rebuild_error,
    }


def _state() -> dict[str, Any]:
    state = ModelState.load()
    return {
        **_rebuild_state(state),
        "samples": state.samples,
        "rebuilt_at": state.rebuilt_at,
        "auc": state.auc,
        "auc_samples": state.auc_samples,
        "predicted_at": state.predicted_at,
        "predictive_fields": chosen_variables(),
        "probability_follows_prediction": PheuSettings.load().probability_follows_prediction,
    }


class ModelStateView(APIView):
    @extend_schema(
        operation_id="scoring_model",
        tags=["scoring-model"],
        summary="The predictive model's state",
        responses={200: ModelStateSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(ModelStateSerializer(_state()).data)


class ModelRebuildView(APIView):
    permission_classes = [ManagesConfiguration]

    @extend_schema(
        operation_id="scoring_model_rebuild",
        tags=["scoring-model"],
        summary="Rebuild the predictive model and predict every open record",
        description="Learns again from every won and lost record, measures the AUC on the most recently "
        "closed 20%, then writes every open record's predicted probability. Managers and administrators. "
        "On a history of more than 20,000 closed records the rebuild runs in the background: the answer "
        "is 202, and `GET /api/v1/scoring-model/` shows `rebuild_status` until it is `idle` again (a "
        "rebuild already queued or running is not queued twice).",
        request=None,
        responses={200: RebuildSerializer, 202: RebuildQueuedSerializer},
    )
    def post(self, request: Request) -> Response:
        outcome = request_rebuild()
        if outcome.queued:
            body = {"background": True, "closed": outcome.closed, **_rebuild_state(ModelState.load())}
            return Response(RebuildQueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED)
        result, predicted = outcome.rebuilt, outcome.predicted
        assert result is not None and predicted is not None  # not queued: rebuilt and predicted at once
        body = {
            "samples": result.samples,
            "won": result.won,
            "lost": result.lost,
            "auc": result.auc,
            "auc_samples": result.auc_samples,
            "predicted": {"checked": predicted.checked, "changed": predicted.changed},
        }
        return Response(RebuildSerializer(body).data)
