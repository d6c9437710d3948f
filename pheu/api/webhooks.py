"""The records of webhook payloads, as the API shows them (``GET /api/v1/leads/{id}/`` and so on).

Registered with :func:`pheu.webhooks.services.register_payload` when the API app starts. Each builder reads
its record afresh (after the event's commit) with what the API's own query loads, in English (a payload's
values are codes and ids; nothing in it depends on a user's language)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils import translation

from pheu.leads.api.serializers import LeadSerializer
from pheu.leads.models import Lead
from pheu.sales.api.serializers import OrderSerializer, QuotationSerializer
from pheu.sales.models import Order, Quotation
from pheu.webhooks.services import register_payload


def _builder(
    rows: Callable[[], QuerySet[Any]], serializer: type
) -> Callable[[int], Mapping[str, Any] | None]:
    def build(pk: int) -> Mapping[str, Any] | None:
        record = rows().filter(pk=pk).first()
        if record is None:
            return None
        with translation.override("en"):
            return serializer(record).data

    return build


def register() -> None:
    register_payload(
        "leads.lead", _builder(lambda: Lead.objects.with_score().prefetch_related("tags"), LeadSerializer)
    )
    register_payload(
        "sales.quotation",
        _builder(
            lambda: Quotation.objects.select_related("order").prefetch_related("lines"), QuotationSerializer
        ),
    )
    register_payload(
        "sales.order", _builder(lambda: Order.objects.prefetch_related("lines"), OrderSerializer)
    )
