"""The activities panel and the "Send e-mail" button of lead and customer pages (``pheu.core.panels``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from pheu.activities.forms import ActivityForm
from pheu.activities.models import Activity
from pheu.contacts.models import Partner
from pheu.leads.models import Lead


def record_kind(record: Lead | Partner) -> str:
    return "lead" if isinstance(record, Lead) else "partner"


def open_activities_of(user: Any, record: Lead | Partner) -> list[Activity]:
    """The open activities shown on ``record``'s page: its own; for a customer also those of the
    opportunities (visible to ``user``) of the customer and of the people of the company."""
    activities = Activity.objects.visible_to(user).open().for_list()
    if isinstance(record, Lead):
        activities = activities.filter(lead=record)
    else:
        activities = activities.filter(
            Q(partner=record)
            | Q(partner__parent=record)
            | Q(lead__partner=record)
            | Q(lead__partner__parent=record)
        )
    return list(activities.order_by("due_date", "id")[:100])


def activities_panel(
    request: HttpRequest, record: Lead | Partner, form: ActivityForm | None = None
) -> dict[str, Any]:
    kind = record_kind(record)
    return {
        "record": record,
        "kind": kind,
        "activities": open_activities_of(request.user, record),
        "form": form or ActivityForm(actor=request.user),
        "schedule_url": reverse("activities:schedule", args=[kind, record.pk]),
        "today": timezone.localdate(),
        "open_form": form is not None and bool(form.errors),
    }


def email_button(request: HttpRequest, record: Lead | Partner) -> dict[str, Any]:
    return {"url": reverse("activities:email", args=[record_kind(record), record.pk])}
