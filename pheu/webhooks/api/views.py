"""API of webhooks: ``webhooks/`` (managers and administrators), with each endpoint's delivery log and
``test/``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pheu.core.api.views import updated_record
from pheu.webhooks.api.serializers import DeliverySerializer, EndpointSerializer
from pheu.webhooks.models import WebhookEndpoint
from pheu.webhooks.services import create_endpoint, delete_endpoint, send_test, update_endpoint


class ManagesConfiguration(permissions.BasePermission):
    # Endpoints hold signing secrets: only managers and administrators read them.
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.manages_configuration)


@extend_schema_view(
    list=extend_schema(summary="The webhook endpoints"),
    create=extend_schema(summary="Add a webhook endpoint (without a secret, a random one is drawn)"),
    retrieve=extend_schema(summary="One webhook endpoint"),
    update=extend_schema(summary="Change a webhook endpoint"),
    partial_update=extend_schema(
        summary="Change some fields of a webhook endpoint; an empty secret keeps it"
    ),
    destroy=extend_schema(summary="Remove a webhook endpoint and its delivery log"),
)
class WebhookEndpointViewSet(viewsets.ModelViewSet):
    """URLs told of events (a signed POST, tried again for 24 hours; docs/webhooks.md). Managers only."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = EndpointSerializer
    permission_classes = [ManagesConfiguration]
    filterset_fields = ["active"]
    ordering_fields = ["id", "name"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = create_endpoint(actor=self.request.user, values=dict(serializer.validated_data))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = update_endpoint(
            actor=self.request.user,
            endpoint=updated_record(serializer, WebhookEndpoint),
            values=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        delete_endpoint(actor=self.request.user, endpoint=instance)

    @extend_schema(
        request=None,
        responses=DeliverySerializer(many=True),
        summary="The endpoint's delivery log, newest first",
        description="Status, response code, duration and next try of each event sent (or to send).",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        rows = self.get_object().deliveries.order_by("-created_at", "-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={202: DeliverySerializer},
        summary="Send a test event to the endpoint",
        description="Queues a `webhook.test` event to this endpoint only (even when inactive), tried once; "
        "its outcome shows in `deliveries/`.",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def test(self, request: Request, pk: str | None = None) -> Response:
        delivery = send_test(actor=request.user, endpoint=self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
