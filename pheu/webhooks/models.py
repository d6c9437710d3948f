"""Webhook endpoints and the log of what was sent to them."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pheu.webhooks.choices import DeliveryStatus


def new_secret() -> str:
    """A random signing secret (256 bits, URL-safe text)."""
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL told of the ``events`` it lists, while ``active``. Each request is signed with ``secret``
    (``X-Pheu-Signature``, docs/webhooks.md). Managers and administrators manage endpoints.

    The secret is stored as given: Pheu needs it to sign, and the manager reads it on the endpoint's page to
    set up the receiver."""

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("secret"), max_length=200, default=new_secret)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event sent (or to send) to one endpoint: its body as signed, and the outcome of the last attempt.

    ``body`` is fixed when the event's transaction commits, so every retry sends the same bytes (a receiver
    may deduplicate on ``X-Pheu-Delivery``). ``attempts`` counts the attempts made; ``next_attempt_at`` is
    when the next is due while ``status`` is pending. ``duration_ms`` and ``response_code`` are those of the
    last attempt (no code when no HTTP answer came)."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=40)
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last try"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    is_test = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_endpoint"),
            models.Index(
                fields=["next_attempt_at"],
                name="webhooks_delivery_due",
                condition=models.Q(status=DeliveryStatus.PENDING),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}"
