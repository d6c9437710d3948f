"""Panels of lead and customer pages (``pheu.core.panels``): "New quotation" / "New order" buttons, and
the quotations and orders of the record with their amounts."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest

from pheu.contacts.models import Partner
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead
from pheu.sales.models import Order, Quotation

LIMIT = 50


def new_quotation_button(request: HttpRequest, lead: Lead) -> dict[str, Any] | None:
    """Shown on opportunities that can still be quoted (active, not lost)."""
    if lead.type != LeadType.OPPORTUNITY or not lead.active or lead.won_status == WonStatus.LOST:
        return None
    return {"lead": lead}


def new_order_button(request: HttpRequest, partner: Partner) -> dict[str, Any] | None:
    return {"partner": partner} if partner.active else None


def documents_panel(request: HttpRequest, record: Lead | Partner) -> dict[str, Any] | None:
    """The record's quotations and orders visible to the user; hidden on a lead that has none."""
    cond = Q(lead=record) if isinstance(record, Lead) else Q(partner=record) | Q(partner__parent=record)
    quotations = list(Quotation.objects.visible_to(request.user).filter(cond).for_list()[:LIMIT])
    orders = list(Order.objects.visible_to(request.user).filter(cond).for_list()[:LIMIT])
    if isinstance(record, Lead) and not quotations and not orders:
        return None
    return {"record": record, "quotations": quotations, "orders": orders}
