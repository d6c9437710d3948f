"""The events a webhook endpoint may listen to, and the states of a delivery."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    LEAD_CREATED = "lead.created", _("A lead or opportunity was created")
    LEAD_ASSIGNED = "lead.assigned", _("A lead was given a salesperson")
    LEAD_CONVERTED = "lead.converted", _("A lead was converted into an opportunity")
    LEAD_MERGED = "lead.merged", _("Records were merged")
    LEAD_WON = "lead.won", _("An opportunity was won")
    LEAD_LOST = "lead.lost", _("A lead or opportunity was lost")
    QUOTATION_CONFIRMED = "quotation.confirmed", _("A quotation was confirmed")
    ORDER_CREATED = "order.created", _("A sales order was created")


# What "send test" sends: never an event an endpoint subscribes to, so it is sent to the one endpoint asked.
TEST_EVENT = "webhook.test"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")  # queued, or failed and to be tried again at ``next_attempt_at``
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")  # given up: every attempt of 24 hours failed (or the endpoint went away)
