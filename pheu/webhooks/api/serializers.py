"""API representations of webhook endpoints and their deliveries. Writes go through the services."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.models import WebhookDelivery, WebhookEndpoint


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        min_length=1,
        help_text=_("The events sent to this URL."),
    )
    secret = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_("Signs every request (X-Pheu-Signature). Empty on creation: a random one is drawn."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "events", "secret", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class DeliverySerializer(serializers.ModelSerializer):
    duration_ms = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("Time of the last attempt, in milliseconds.")
    )
    next_attempt_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("When it is tried again (waiting deliveries only).")
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "response_code",
            "duration_ms",
            "error",
            "next_attempt_at",
            "last_attempt_at",
            "delivered_at",
            "created_at",
            "body",
        ]
        read_only_fields = fields
