"""API of the outcome of leads and opportunities: ``leads/{id}/won/``, ``lost/`` and ``restore/``.

The record is looked up among those the user may see (404 otherwise), as every lead endpoint does; the
services in ``pheu.leads.services.outcome`` do the rest and answer with the record as ``leads/{id}/``.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.leads.api.serializers import LeadSerializer
from pheu.leads.models import Lead, LostReason
from pheu.leads.services.outcome import NOTE_MAX_LENGTH, mark_lost, mark_won, restore_lead


class LostSerializer(serializers.Serializer):
    lost_reason = serializers.PrimaryKeyRelatedField(
        queryset=LostReason.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("Why it was lost (an active lost reason)."),
    )
    note = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=NOTE_MAX_LENGTH,
        help_text=_("Plain text; goes to the record's history."),
    )


def _lead(request: Request, pk: int) -> Lead:
    return get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)


def _answer(lead: Lead) -> Response:
    lead = Lead.objects.prefetch_related("tags").get(pk=lead.pk)
    return Response(LeadSerializer(lead).data)


class LeadWonView(APIView):
    @extend_schema(
        operation_id="leads_won",
        tags=["leads"],
        summary="Mark a lead or opportunity won",
        description="Probability 100, closed now, in the first won stage of its team (or a shared one). "
        "A lost record is won back; an already won one is unchanged.",
        request=None,
        responses={200: LeadSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        return _answer(mark_won(actor=request.user, lead=_lead(request, pk)))


class LeadLostView(APIView):
    @extend_schema(
        operation_id="leads_lost",
        tags=["leads"],
        summary="Mark a lead or opportunity lost",
        description="Probability 0, inactive, closed now, with the lost reason; the note goes to the "
        "history. A record already lost is refused (400).",
        request=LostSerializer,
        responses={200: LeadSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = _lead(request, pk)
        params = LostSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return _answer(
            mark_lost(
                actor=request.user,
                lead=lead,
                lost_reason=params.validated_data.get("lost_reason"),
                note=params.validated_data["note"],
            )
        )


class LeadRestoreView(APIView):
    @extend_schema(
        operation_id="leads_restore",
        tags=["leads"],
        summary="Reopen a lost lead or opportunity",
        description="Open and active again, its probability recomputed (the stage's when automatic). "
        "A record that is not lost is refused (400).",
        request=None,
        responses={200: LeadSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        return _answer(restore_lead(actor=request.user, lead=_lead(request, pk)))
