"""API of activities: every read starts from ``Activity.objects.visible_to(user)``; writes go through the
services (an activity the user may not see is a 404)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.activities.api.serializers import (
    ActivitySerializer,
    CalendarFeedSerializer,
    FeedbackSerializer,
    SendEmailSerializer,
)
from pheu.activities.filters import ActivityFilterSet
from pheu.activities.models import Activity
from pheu.activities.services import (
    calendar_feed_token,
    cancel_activity,
    complete_activity,
    default_recipient,
    schedule_activity,
    send_record_email,
    update_activity,
)
from pheu.core.api.filters import FilterBackend
from pheu.core.api.serializers import HistoryEntrySerializer
from pheu.core.api.views import updated_record
from pheu.leads.models import Lead

# What a queryset's rows are: DRF's filter_queryset is generic in them, so are these overrides.
Row = TypeVar("Row")


@extend_schema_view(
    list=extend_schema(summary="List the activities the user may see (open and done)"),
    create=extend_schema(
        summary="Schedule an activity",
        description="On a lead/opportunity (`lead`) or a customer (`partner`), not both. `due_date` is "
        "required; `assignee` defaults to the requesting user.",
    ),
    retrieve=extend_schema(summary="One activity"),
    update=extend_schema(summary="Change an open activity"),
    partial_update=extend_schema(summary="Change some fields of an open activity"),
    destroy=extend_schema(summary="Cancel (remove) an open activity; a done one stays in the history"),
)
class ActivityViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Calls, meetings, e-mails and to-dos on records; `done/` completes one with feedback."""

    queryset = Activity.objects.all()
    serializer_class = ActivitySerializer
    filter_backends = [FilterBackend]
    filterset_class = ActivityFilterSet

    def get_queryset(self) -> QuerySet[Activity]:
        return (
            Activity.objects.visible_to(self.request.user)
            .select_related("lead", "partner")
            .prefetch_related("attendees")
            .order_by("due_date", "id")
        )

    def filter_queryset(self, queryset: QuerySet[Activity, Row]) -> QuerySet[Activity, Row]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        values: dict[str, Any] = dict(serializer.validated_data)
        lead, partner = values.pop("lead", None), values.pop("partner", None)
        serializer.instance = schedule_activity(
            actor=self.request.user, values=values, lead=lead, partner=partner
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = update_activity(
            actor=self.request.user,
            activity=updated_record(serializer, Activity),
            values=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance: Activity) -> None:
        cancel_activity(actor=self.request.user, activity=instance)

    @extend_schema(
        request=FeedbackSerializer,
        responses={200: ActivitySerializer},
        summary="Mark an open activity done, with feedback",
        description="The completion and its feedback are written in the record's history. An activity "
        "already done is refused (400, code `already_done`).",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def done(self, request: Request, pk: str | None = None) -> Response:
        activity = self.get_object()
        form = FeedbackSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        completion = complete_activity(
            actor=request.user, activity=activity, feedback=form.validated_data["feedback"]
        )
        body = ActivitySerializer(completion.activity, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_200_OK)


class LeadSendEmailView(APIView):
    """``POST /leads/{id}/send-email/``: the "Send e-mail" of a record's page, through the same service."""

    @extend_schema(
        operation_id="leads_send_email",
        tags=["leads"],
        summary="Send an e-mail about a lead or opportunity",
        description="As the record page's “Send e-mail”: sent through the configured mail server, with "
        "replies to the requesting user, then written in the record's history (the entry is returned). "
        "`to` defaults to the record's e-mail (or its customer's). A record the user may not see is a 404; "
        "a mail server that refuses is a 400 with code `send_failed`, and nothing is written.",
        request=SendEmailSerializer,
        responses={201: HistoryEntrySerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
        form = SendEmailSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        to = form.validated_data.get("to") or default_recipient(lead)
        entry = send_record_email(
            actor=request.user,
            record=lead,
            to=to,
            subject=form.validated_data["subject"],
            body=form.validated_data["body"],
        )
        return Response(HistoryEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class CalendarFeedView(APIView):
    """``/api/v1/calendar-feed/``: the requesting user's calendar feed (made on first use)."""

    permission_classes = [IsAuthenticated]

    def _answer(self, request: Request, token: str) -> Response:
        body = {
            "url": request.build_absolute_uri(reverse("activities:feed", args=[token])),
            "download": request.build_absolute_uri(reverse("activities:calendar_ics")),
        }
        return Response(CalendarFeedSerializer(body).data)

    @extend_schema(
        operation_id="calendar_feed_retrieve",
        tags=["activities"],
        summary="The address of the user's meetings for a calendar app",
        description="An iCalendar (.ics) feed of the meetings given to the user or that they attend, from "
        "90 days ago on (timed meetings with their duration, the others all day), at a secret address "
        "that needs no log-in: subscribe to it in Google Calendar, Outlook or a phone. Made on first use.",
        responses={200: CalendarFeedSerializer},
    )
    def get(self, request: Request) -> Response:
        return self._answer(request, calendar_feed_token(user=request.user))

    @extend_schema(
        operation_id="calendar_feed_renew",
        tags=["activities"],
        summary="A new address for the user's calendar feed",
        description="The old address stops working at once.",
        request=None,
        responses={200: CalendarFeedSerializer},
    )
    def post(self, request: Request) -> Response:
        return self._answer(request, calendar_feed_token(user=request.user, renew=True))
