"""API of leads and opportunities, and of the pipeline's configuration (stages, lost reasons, UTM).

Every lead read starts from ``Lead.objects.visible_to(user)``: a record the user may not see is a 404,
for reading and writing alike. Writes go through ``pheu.leads.services``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.core.api.filters import FilterBackend
from pheu.core.api.requests import request_settings
from pheu.core.api.views import ConfigViewSet, RecordHistoryMixin, updated_record
from pheu.leads.api.serializers import (
    CampaignSerializer,
    DomainPreviewSerializer,
    DomainValidateSerializer,
    LeadSerializer,
    LostReasonSerializer,
    MediumSerializer,
    SourceSerializer,
    StageSerializer,
)
from pheu.leads.filters import LeadFilterSet
from pheu.leads.models import Campaign, Lead, LostReason, Medium, Source, Stage
from pheu.leads.services import create_lead, create_stage, preview_domain, update_lead, update_stage

# What a queryset's rows are: DRF's filter_queryset is generic in them, so are these overrides.
Row = TypeVar("Row")

_UNIQUE_ORDER = {"id", "-id", "pk", "-pk"}


@extend_schema_view(
    list=extend_schema(
        summary="List the leads and opportunities the user may see",
        parameters=[
            OpenApiParameter(
                "active",
                OpenApiTypes.BOOL,
                description="Active records only (the default) or, with false, the lost and "
                "merged-away ones.",
            ),
            OpenApiParameter("mine", OpenApiTypes.BOOL, description="Only the requesting user's records."),
        ],
    ),
    create=extend_schema(
        summary="Create a lead or opportunity",
        description="Normalised, checked and logged in the history. Without `user`, the "
        "record goes to the requesting user (as a lead created by hand does) and, without `team`, their "
        'first team. With `"user": null` it has no salesperson: automatic assignment gives it one — at '
        "once when real-time assignment is on, else at its team's next run.",
    ),
    retrieve=extend_schema(summary="One lead or opportunity (404 when not visible to the user)"),
    update=extend_schema(summary="Change a lead or opportunity"),
    partial_update=extend_schema(summary="Change some fields of a lead or opportunity"),
    history=extend_schema(description="Notes, e-mails and tracked changes (who, when, old → new)."),
    notes=extend_schema(description="The body is HTML, sanitised before it is stored."),
)
class LeadViewSet(
    RecordHistoryMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Leads and opportunities. Never deleted: lost and merged-away records become inactive.

    The list takes the filters of the lead list page (``LeadFilterSet``); by default it shows active
    records only (``active=false`` for the others).
    """

    queryset = Lead.objects.all()
    serializer_class = LeadSerializer
    filter_backends = [FilterBackend]
    filterset_class = LeadFilterSet

    def get_queryset(self) -> QuerySet[Lead]:
        visible = Lead.objects.visible_to(self.request.user)
        if self.action == "list":
            visible = visible.for_list()
        return visible.with_score().prefetch_related("tags")

    def filter_queryset(self, queryset: QuerySet[Lead, Row]) -> QuerySet[Lead, Row]:
        # Filters narrow the list only: one record is found by its id whatever the query string says.
        if self.action != "list":
            return queryset
        queryset = super().filter_queryset(queryset)
        order = list(queryset.query.order_by)
        if order and not _UNIQUE_ORDER.intersection(order):
            # A total order, so that pages neither repeat nor skip records that tie on the sort column.
            queryset = queryset.order_by(*order, "-id")
        return queryset

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        values: dict[str, Any] = dict(serializer.validated_data)
        tags = values.pop("tags", ())
        serializer.instance = create_lead(
            actor=self.request.user, values=values, tags=tags, settings=request_settings(self.request)
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        values: dict[str, Any] = dict(serializer.validated_data)
        tags = values.pop("tags", None)
        serializer.instance = update_lead(
            actor=self.request.user, lead=updated_record(serializer, Lead), values=values, tags=tags
        )


class StageViewSet(ConfigViewSet):
    """Pipeline stages, of one team or shared (`team` empty); `required_fields` name lead fields."""

    queryset = Stage.objects.all()
    serializer_class = StageSerializer
    filterset_fields = ["team", "is_won", "folded"]
    ordering_fields = ["id", "name", "sequence"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = create_stage(actor=self.request.user, values=dict(serializer.validated_data))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = update_stage(
            actor=self.request.user,
            stage=updated_record(serializer, Stage),
            values=dict(serializer.validated_data),
        )


class LostReasonViewSet(ConfigViewSet):
    """Reasons a lead or opportunity is lost."""

    queryset = LostReason.objects.all()
    serializer_class = LostReasonSerializer
    filterset_fields = ["active"]


class CampaignViewSet(ConfigViewSet):
    """UTM campaigns: the marketing action a lead came from."""

    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_fields = ["active"]


class SourceViewSet(ConfigViewSet):
    """UTM sources: where a lead came from (web form, e-mail, import…)."""

    queryset = Source.objects.all()
    serializer_class = SourceSerializer
    filterset_fields = ["active"]


class MediumViewSet(ConfigViewSet):
    """UTM mediums: the channel a lead came through (call, e-mail, seminar…)."""

    queryset = Medium.objects.all()
    serializer_class = MediumSerializer
    filterset_fields = ["active"]


class DomainValidateView(APIView):
    """Check a rule and preview what it selects (the live preview next to every stored rule)."""

    @extend_schema(
        operation_id="domains_validate",
        tags=["domains"],
        summary="Check a rule-language domain and preview the records it selects",
        description="Always 200 for a domain, valid or not: `valid` false lists every problem in `errors` "
        "(each naming its term and what was expected). A valid domain comes back in canonical form, in "
        "words in the request's language, with the number of active records visible to the user that "
        "match and a sample of them.",
        request=DomainValidateSerializer,
        responses={200: DomainPreviewSerializer},
    )
    def post(self, request: Request) -> Response:
        params = DomainValidateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        preview = preview_domain(actor=request.user, domain_text=params.validated_data["domain"])
        return Response(DomainPreviewSerializer(preview).data)
