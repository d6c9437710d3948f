"""API of capture: ``mailboxes/`` (managers), ``teams/{id}/form-key/`` and ``mail/eml/``."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.capture.api.serializers import (
    EmlResultSerializer,
    EmlUploadSerializer,
    FetchResultSerializer,
    FormKeySerializer,
    MailboxSerializer,
)
from pheu.capture.models import Mailbox
from pheu.capture.services import (
    create_mailbox,
    delete_mailbox,
    fetch_mailbox,
    import_message,
    regenerate_form_key,
    update_mailbox,
)
from pheu.core.api.parsers import FormParser, MultiPartParser
from pheu.core.api.views import updated_record
from pheu.teams.models import Team


class ManagesConfiguration(permissions.BasePermission):
    # Mailboxes hold credentials: only managers and administrators read them too.
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.manages_configuration)


@extend_schema_view(
    list=extend_schema(summary="The IMAP mailboxes polled for leads"),
    create=extend_schema(summary="Add a mailbox (the password is stored encrypted)"),
    partial_update=extend_schema(summary="Change a mailbox; an empty password keeps the stored one"),
)
class MailboxViewSet(viewsets.ModelViewSet):
    """IMAP mailboxes: each unseen message becomes a lead of the mailbox's team, a reply goes to its lead."""

    queryset = Mailbox.objects.select_related("team")
    serializer_class = MailboxSerializer
    permission_classes = [ManagesConfiguration]
    filterset_fields = ["team", "active"]
    ordering_fields = ["id", "name"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = create_mailbox(actor=self.request.user, values=dict(serializer.validated_data))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = update_mailbox(
            actor=self.request.user,
            mailbox=updated_record(serializer, Mailbox),
            values=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance: Mailbox) -> None:
        delete_mailbox(actor=self.request.user, mailbox=instance)

    @extend_schema(
        request=None,
        responses=FetchResultSerializer,
        summary="Fetch the mailbox now",
        description="Imports its unseen messages; problems are in `errors` (and the mailbox's `last_error`).",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def fetch(self, request: Request, pk: str | None = None) -> Response:
        return Response(FetchResultSerializer(fetch_mailbox(mailbox=self.get_object()).as_dict()).data)


class TeamFormKeyView(APIView):
    permission_classes = [ManagesConfiguration]

    @extend_schema(
        operation_id="teams_form_key",
        tags=["teams"],
        summary="Give the team's web form a new key",
        description="The old address of the form stops working at once. Managers only.",
        request=None,
        responses={200: FormKeySerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        team = regenerate_form_key(actor=request.user, team=get_object_or_404(Team, pk=pk))
        url = request.build_absolute_uri(reverse("capture:web_form", args=[team.form_key]))
        return Response(FormKeySerializer({"form_key": team.form_key, "form_url": url}).data)


class EmlUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="mail_eml",
        tags=["mail"],
        summary="Make a lead of an e-mail file (.eml)",
        description="A reply to a known message (In-Reply-To/References, or `[#id]` in the subject) of a "
        "lead the user sees is added to that lead's history instead; a message imported before does nothing.",
        request={"multipart/form-data": EmlUploadSerializer},
        responses={201: EmlResultSerializer, 200: EmlResultSerializer},
    )
    def post(self, request: Request) -> Response:
        form = EmlUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = import_message(
            raw=form.validated_data["file"].read(), team=form.validated_data.get("team"), actor=request.user
        )
        body = {
            "lead": result.lead.pk,
            "created": result.created,
            "reply": result.reply,
            "duplicate": result.duplicate,
        }
        return Response(
            EmlResultSerializer(body).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
