"""Base classes of the app viewsets: the configuration permission, the config viewset, history actions."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.core.api.serializers import HistoryEntrySerializer, NoteSerializer, SettingsSerializer
from pheu.core.history import timeline_of
from pheu.core.models import PheuSettings
from pheu.core.services import add_note, update_settings

M = TypeVar("M", bound=Model)


def updated_record(serializer: serializers.BaseSerializer[Any], model: type[M]) -> M:
    """The record an update's serializer was made for, as ``model`` (``UpdateModelMixin.update`` gives the
    serializer the object it looked up; a ``perform_update`` always has one)."""
    record = serializer.instance
    if not isinstance(record, model):
        raise TypeError(f"an update of a {model.__name__} without one: {record!r}")
    return record


class ManagesConfigurationOrReadOnly(permissions.BasePermission):
    """Every logged-in user reads configuration; managers and administrators change it."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(getattr(user, "manages_configuration", False))


class ConfigViewSet(viewsets.ModelViewSet):
    # A configuration resource (teams, stages, tags…): read by all, written by managers. Deleting a
    # record still used elsewhere is refused with 409 (see pheu.api.errors); archive it instead.

    permission_classes = [ManagesConfigurationOrReadOnly]
    ordering_fields = ["id", "name"]


class RecordHistoryMixin:
    """``GET <record>/{id}/history/`` and ``POST <record>/{id}/notes/`` for a viewset of records.

    ``get_object()`` applies the viewset's visibility, so a record the user may not see is a 404 here too.
    """

    get_object: Any

    @extend_schema(
        request=None,
        responses=HistoryEntrySerializer(many=True),
        summary="The record's history, newest first",
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        record: Model = self.get_object()
        return Response(HistoryEntrySerializer(timeline_of(record), many=True).data)

    @extend_schema(
        request=NoteSerializer,
        responses={201: HistoryEntrySerializer},
        summary="Add a note to the record's history",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def notes(self, request: Request, pk: str | None = None) -> Response:
        record: Model = self.get_object()
        form = NoteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        entry = add_note(record=record, author=request.user, body=form.validated_data["body"])
        return Response(HistoryEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class SettingsView(APIView):
    """``/api/v1/settings/``: every signed-in user reads the installation's settings; sales managers and
    administrators change them (others get 403)."""

    permission_classes = [ManagesConfigurationOrReadOnly]

    @extend_schema(
        operation_id="settings_retrieve",
        tags=["settings"],
        summary="The installation's settings",
        responses={200: SettingsSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(SettingsSerializer(PheuSettings.load()).data)

    @extend_schema(
        operation_id="settings_partial_update",
        tags=["settings"],
        summary="Change the installation's settings",
        description="Managers and administrators. Only the fields sent change. Changing the predictive "
        "model's variables, or whether probabilities follow the prediction, has every open record "
        "predicted again within a few minutes. A new `phone_region` applies to the numbers typed from then "
        "on; records keep the keys their numbers were given.",
        request=SettingsSerializer,
        responses={200: SettingsSerializer},
    )
    def patch(self, request: Request) -> Response:
        serializer = SettingsSerializer(PheuSettings.load(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = update_settings(actor=request.user, values=dict(serializer.validated_data))
        return Response(SettingsSerializer(updated).data)
