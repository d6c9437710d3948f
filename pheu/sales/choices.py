from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class QuotationState(models.TextChoices):
    """draft → sent → confirmed (an order is made); draft or sent → cancelled. Confirmed and cancelled are
    final."""

    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


class OrderState(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


# States in which a quotation may still be changed, sent, confirmed or cancelled.
OPEN_QUOTATION_STATES: tuple[str, ...] = (QuotationState.DRAFT, QuotationState.SENT)
